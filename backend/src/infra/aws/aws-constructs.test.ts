import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { sampleRequest } from '../samples';
import { awsPlatformInputSchema, awsSpaceInputSchema } from './aws-inputs';
import { AwsNetwork } from './aws-network';
import { AwsPlatformInstance } from './aws-platform-instance';

// Each construct synthesizes alone, without a stack's provider, backend or aspect.
describe('AWS constructs in isolation', () => {
  it('AwsNetwork', () => {
    const input = awsSpaceInputSchema.parse(sampleRequest('aws', 'space').input);
    const json = Testing.synthScope(
      (scope) => new AwsNetwork(scope, 'network', { input, tags: { team: 'x' } }),
    );
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_vpc', { cidr_block: '10.42.0.0/16' }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_subnet', { availability_zone: 'eu-west-1b' }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_vpc_security_group_ingress_rule', {
        from_port: 8883,
      }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_vpc', { cidr_block: '10.0.0.0/8' }),
    ).toBe(false);
  });

  it('AwsPlatformInstance', () => {
    const input = awsPlatformInputSchema.parse(sampleRequest('aws', 'platform').input);
    const json = Testing.synthScope(
      (scope) => new AwsPlatformInstance(scope, 'platform', { input, tags: { team: 'x' } }),
    );
    expect(Testing.toHaveDataSourceWithProperties(json, 'aws_ami', { most_recent: true })).toBe(
      true,
    );
    expect(
      Testing.toHaveResourceWithProperties(json, 'aws_ebs_volume', {
        type: 'gp3',
        encrypted: true,
      }),
    ).toBe(true);
    expect(Testing.toHaveResource(json, 'aws_volume_attachment')).toBe(true);
    expect(Testing.toHaveResourceWithProperties(json, 'aws_eip', { domain: 'vpc' })).toBe(true);
  });
});
