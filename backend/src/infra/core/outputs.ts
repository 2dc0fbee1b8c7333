import type { TerraformOutput as RunnerOutput } from '../runner/terraform-runner';

/** Output names of every platform stack, whatever the cloud. */
export const PLATFORM_OUTPUTS = {
  publicIp: 'public_ip',
  instanceId: 'instance_id',
  sshUser: 'ssh_user',
  dataVolumeId: 'data_volume_id',
} as const;
export type PlatformOutputs = Record<keyof typeof PLATFORM_OUTPUTS, string>;

export const AWS_SPACE_OUTPUTS = {
  vpcId: 'vpc_id',
  subnetId: 'subnet_id',
  securityGroupId: 'security_group_id',
  keyName: 'key_name',
  availabilityZone: 'availability_zone',
} as const;

export const OPENSTACK_SPACE_OUTPUTS = {
  networkId: 'network_id',
  securityGroupId: 'security_group_id',
  externalPool: 'external_pool',
} as const;

/** Maps `tofu output -json` to camelCase fields; a missing output is an error, not undefined. */
export function readOutputs<K extends string>(
  raw: Record<string, RunnerOutput>,
  names: Record<K, string>,
): Record<K, string> {
  const result = {} as Record<K, string>;
  for (const key of Object.keys(names) as K[]) {
    const value = raw[names[key]]?.value;
    if (typeof value !== 'string') throw new Error(`Stack output ${names[key]} is missing`);
    result[key] = value;
  }
  return result;
}
