import { describe, expect, it } from 'vitest';
import { sampleRequest } from '../samples';
import { only, ref, synthJson } from '../testing/synth-json';

const SPACE_ID = '6f0c2d3e-1111-4a5b-9c8d-7e6f5a4b3c2d';
const PLATFORM_ID = '0b9f4c1a-2222-4d3e-8f7a-1b2c3d4e5f60';

describe('OpenStack space stack', () => {
  it('creates network, subnet, router to the pool and a security group', async () => {
    const { json } = await synthJson(sampleRequest('openstack', 'space'));
    expect(json.terraform.required_providers.openstack).toMatchObject({
      source: 'terraform-provider-openstack/openstack',
    });
    const network = only(json, 'openstack_networking_network_v2');
    const subnet = only(json, 'openstack_networking_subnet_v2');
    const router = only(json, 'openstack_networking_router_v2');
    const group = only(json, 'openstack_networking_secgroup_v2');
    const [poolName, pool] = Object.entries(json.data?.openstack_networking_network_v2 ?? {})[0]!;

    expect(pool).toMatchObject({ name: 'public', external: true });
    expect(subnet.config).toMatchObject({
      network_id: ref('openstack_networking_network_v2', network.name, 'id'),
      cidr: '10.43.1.0/24',
      ip_version: 4,
    });
    expect(router.config.external_network_id).toBe(
      `\${data.openstack_networking_network_v2.${poolName}.id}`,
    );
    expect(only(json, 'openstack_networking_router_interface_v2').config).toMatchObject({
      router_id: ref('openstack_networking_router_v2', router.name, 'id'),
      subnet_id: ref('openstack_networking_subnet_v2', subnet.name, 'id'),
    });
    const rules = Object.values(json.resource.openstack_networking_secgroup_rule_v2 ?? {});
    expect(rules.map((r) => [r.port_range_min, r.remote_ip_prefix]).sort()).toEqual(
      [
        [22, '203.0.113.7/32'],
        [5672, '198.51.100.0/24'],
        [5671, '198.51.100.0/24'],
        [1883, '198.51.100.0/24'],
        [8883, '198.51.100.0/24'],
        [3000, '198.51.100.0/24'],
      ].sort(),
    );
    for (const rule of rules) {
      expect(rule.security_group_id).toBe(
        ref('openstack_networking_secgroup_v2', group.name, 'id'),
      );
    }
    for (const resource of [network, subnet, router, group]) {
      expect(resource.config.tags).toContain(`fieldstation-space-id=${SPACE_ID}`);
    }
    expect(json.output).toEqual({
      network_id: { value: ref('openstack_networking_network_v2', network.name, 'id') },
      security_group_id: { value: ref('openstack_networking_secgroup_v2', group.name, 'id') },
      external_pool: { value: 'public' },
    });
  });

  it('records an existing network, pool and security group by looking them up', async () => {
    const { json } = await synthJson({
      target: 'openstack',
      kind: 'space',
      input: {
        mode: 'existing',
        spaceId: SPACE_ID,
        name: 'lab',
        externalPool: 'ext-net',
        networkName: 'private',
        securityGroupName: 'iot',
      },
    });
    expect(json.resource ?? {}).toEqual({});
    const networks = Object.entries(json.data?.openstack_networking_network_v2 ?? {});
    const [groupName] = Object.keys(json.data?.openstack_networking_secgroup_v2 ?? {});
    const privateNet = networks.find(([, c]) => c.name === 'private')!;
    expect(networks.find(([, c]) => c.name === 'ext-net')?.[1]).toMatchObject({ external: true });
    expect(json.output).toEqual({
      network_id: { value: `\${data.openstack_networking_network_v2.${privateNet[0]}.id}` },
      security_group_id: { value: `\${data.openstack_networking_secgroup_v2.${groupName}.id}` },
      external_pool: { value: 'ext-net' },
    });
  });
});

describe('OpenStack platform stack', () => {
  it('creates key pair, instance on a port, a volume in the instance zone and a floating IP', async () => {
    const { json } = await synthJson(sampleRequest('openstack', 'platform'));
    const key = only(json, 'openstack_compute_keypair_v2');
    const port = only(json, 'openstack_networking_port_v2');
    const instance = only(json, 'openstack_compute_instance_v2');
    const volume = only(json, 'openstack_blockstorage_volume_v3');
    const floating = only(json, 'openstack_networking_floatingip_v2');

    expect(port.config).toMatchObject({
      network_id: '5d2c1b0a-3333-4e4f-8a9b-0c1d2e3f4a5b',
      security_group_ids: ['7a6b5c4d-4444-4f3e-9d2c-1b0a9f8e7d6c'],
    });
    expect(instance.config).toMatchObject({
      flavor_name: 'm1.small',
      image_name: 'Ubuntu 24.04',
      key_pair: ref('openstack_compute_keypair_v2', key.name, 'name'),
      network: [{ port: ref('openstack_networking_port_v2', port.name, 'id') }],
    });
    expect(instance.config.user_data).toMatch(/^#cloud-config\n/);
    expect(volume.config).toMatchObject({
      size: 30,
      availability_zone: ref('openstack_compute_instance_v2', instance.name, 'availability_zone'),
    });
    expect(only(json, 'openstack_compute_volume_attach_v2').config).toEqual(
      expect.objectContaining({
        instance_id: ref('openstack_compute_instance_v2', instance.name, 'id'),
        volume_id: ref('openstack_blockstorage_volume_v3', volume.name, 'id'),
      }),
    );
    expect(floating.config).toMatchObject({
      pool: 'public',
      port_id: ref('openstack_networking_port_v2', port.name, 'id'),
    });
    for (const resource of [port, instance, floating]) {
      expect(resource.config.tags).toContain(`fieldstation-platform-id=${PLATFORM_ID}`);
    }
    expect(volume.config.metadata).toMatchObject({ 'fieldstation-platform-id': PLATFORM_ID });
    expect(json.output.public_ip!.value).toBe(
      ref('openstack_networking_floatingip_v2', floating.name, 'address'),
    );
  });

  it('uses an explicit block storage zone when the cloud names its zones differently', async () => {
    const request = sampleRequest('openstack', 'platform');
    if (request.target !== 'openstack' || request.kind !== 'platform') throw new Error('sample');
    const { json } = await synthJson({
      ...request,
      input: { ...request.input, volumeAvailabilityZone: 'cinder-az1' },
    });
    expect(only(json, 'openstack_blockstorage_volume_v3').config.availability_zone).toBe(
      'cinder-az1',
    );
  });
});
