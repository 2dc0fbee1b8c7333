import { describe, expect, it } from 'vitest';
import { sampleRequest } from '../samples';
import { only, ref, synthJson, type TerraformJson } from '../testing/synth-json';

const SPACE_ID = '6f0c2d3e-1111-4a5b-9c8d-7e6f5a4b3c2d';
const PLATFORM_ID = '0b9f4c1a-2222-4d3e-8f7a-1b2c3d4e5f60';

function rules(json: TerraformJson): Record<string, unknown>[] {
  return Object.values(json.resource.aws_vpc_security_group_ingress_rule ?? {});
}

describe('AWS space stack', () => {
  it('wires VPC, public subnet in the chosen zone, gateway route, security group and key pair', async () => {
    const { json } = await synthJson(sampleRequest('aws', 'space'));
    const vpc = only(json, 'aws_vpc');
    const subnet = only(json, 'aws_subnet');
    const gateway = only(json, 'aws_internet_gateway');
    const routes = only(json, 'aws_route_table');
    const group = only(json, 'aws_security_group');
    const key = only(json, 'aws_key_pair');

    expect(json.provider.aws).toEqual([{ region: 'eu-west-1' }]);
    expect(subnet.config).toMatchObject({
      vpc_id: ref('aws_vpc', vpc.name, 'id'),
      availability_zone: 'eu-west-1b',
    });
    expect(gateway.config.vpc_id).toBe(ref('aws_vpc', vpc.name, 'id'));
    expect(routes.config.route).toEqual([
      expect.objectContaining({
        cidr_block: '0.0.0.0/0',
        gateway_id: ref('aws_internet_gateway', gateway.name, 'id'),
      }),
    ]);
    expect(only(json, 'aws_route_table_association').config).toEqual(
      expect.objectContaining({
        subnet_id: ref('aws_subnet', subnet.name, 'id'),
        route_table_id: ref('aws_route_table', routes.name, 'id'),
      }),
    );
    expect(group.config.vpc_id).toBe(ref('aws_vpc', vpc.name, 'id'));
    expect(key.config.public_key).toMatch(/^ssh-ed25519 /);

    // Service ports open to the configured ingress CIDRs, SSH only to the narrower SSH CIDRs.
    const opened = rules(json).map((r) => [r.from_port, r.cidr_ipv4, r.security_group_id]);
    const sg = ref('aws_security_group', group.name, 'id');
    expect(opened).toEqual(
      expect.arrayContaining([
        [22, '203.0.113.7/32', sg],
        [5672, '198.51.100.0/24', sg],
        [5671, '198.51.100.0/24', sg],
        [1883, '198.51.100.0/24', sg],
        [8883, '198.51.100.0/24', sg],
        [3000, '198.51.100.0/24', sg],
      ]),
    );
    expect(opened).toHaveLength(6);

    expect(Object.keys(json.output).sort()).toEqual([
      'availability_zone',
      'key_name',
      'security_group_id',
      'subnet_id',
      'vpc_id',
    ]);
    expect(json.output.subnet_id!.value).toBe(ref('aws_subnet', subnet.name, 'id'));
    // Every resource type that can carry tags does (the association cannot).
    for (const [type, resources] of Object.entries(json.resource)) {
      if (type === 'aws_route_table_association') continue;
      for (const config of Object.values(resources)) {
        expect(config.tags, type).toMatchObject({ 'fieldstation-space-id': SPACE_ID });
      }
    }
  });

  it('looks the zone up when none is chosen, instead of hard-coding one', async () => {
    const request = sampleRequest('aws', 'space');
    if (request.kind !== 'space' || request.target !== 'aws') throw new Error('sample');
    const { json } = await synthJson({
      ...request,
      input: { ...request.input, availabilityZone: undefined },
    });
    const [zonesName] = Object.keys(json.data?.aws_availability_zones ?? {});
    expect(zonesName).toBeDefined();
    expect(only(json, 'aws_subnet').config.availability_zone).toBe(
      `\${element(data.aws_availability_zones.${zonesName}.names, 0)}`,
    );
  });

  it('opens IPv6 sources with cidr_ipv6', async () => {
    const request = sampleRequest('aws', 'space');
    if (request.kind !== 'space' || request.target !== 'aws') throw new Error('sample');
    const { json } = await synthJson({
      ...request,
      input: { ...request.input, sshCidrs: ['2001:db8::/64'] },
    });
    expect(rules(json).find((r) => r.from_port === 22)).toMatchObject({
      cidr_ipv6: '2001:db8::/64',
    });
  });
});

describe('AWS platform stack', () => {
  it('uses a looked-up Ubuntu image, a gp3 encrypted volume in the instance zone and an Elastic IP', async () => {
    const { json, text } = await synthJson(sampleRequest('aws', 'platform'));
    const instance = only(json, 'aws_instance');
    const volume = only(json, 'aws_ebs_volume');
    const [amiName, ami] = Object.entries(json.data?.aws_ami ?? {})[0]!;

    expect(text).not.toMatch(/ami-[0-9a-f]{8,}/);
    expect(instance.config.ami).toBe(`\${data.aws_ami.${amiName}.id}`);
    expect(ami).toMatchObject({ most_recent: true, owners: ['099720109477'] });
    expect(JSON.stringify(ami.filter)).toContain('ubuntu-noble-24.04-amd64-server-*');

    expect(instance.config).toMatchObject({
      instance_type: 't3.small',
      subnet_id: 'subnet-0a1b2c3d4e5f60718',
      vpc_security_group_ids: ['sg-0a1b2c3d4e5f60718'],
      key_name: `fs-lab-${SPACE_ID}`,
      metadata_options: { http_tokens: 'required' },
      root_block_device: { encrypted: true },
    });
    expect(instance.config.user_data).toMatch(/^#cloud-config\n/);

    expect(volume.config).toMatchObject({
      availability_zone: ref('aws_instance', instance.name, 'availability_zone'),
      type: 'gp3',
      encrypted: true,
      size: 30,
    });
    expect(only(json, 'aws_volume_attachment').config).toMatchObject({
      volume_id: ref('aws_ebs_volume', volume.name, 'id'),
      instance_id: ref('aws_instance', instance.name, 'id'),
    });
    const eip = only(json, 'aws_eip');
    expect(eip.config).toMatchObject({
      domain: 'vpc',
      instance: ref('aws_instance', instance.name, 'id'),
    });

    expect(json.output.public_ip!.value).toBe(ref('aws_eip', eip.name, 'public_ip'));
    expect(json.output.ssh_user!.value).toBe('fieldstation');
    for (const type of ['aws_instance', 'aws_ebs_volume', 'aws_eip']) {
      expect(only(json, type).config.tags, type).toMatchObject({
        'fieldstation-platform-id': PLATFORM_ID,
      });
    }
  });

  it('rejects inputs that would reach resource names unescaped', async () => {
    const request = sampleRequest('aws', 'platform');
    if (request.kind !== 'platform' || request.target !== 'aws') throw new Error('sample');
    await expect(
      synthJson({ ...request, input: { ...request.input, name: 'Bad Name; rm -rf' } }),
    ).rejects.toThrow(/DNS label/);
    await expect(
      synthJson({ ...request, input: { ...request.input, instanceType: 't3.small"\n' } }),
    ).rejects.toThrow(/instance type/);
  });
});
