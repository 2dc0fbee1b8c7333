import type { StackRequest } from './stack-synthesizer';

/**
 * Example inputs for every stack: used by `npm run synth`, the benchmark and the tests.
 * The ids, key and CIDRs are fictional (documentation ranges).
 */
const SAMPLE_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkWq0w3v1fJpXKp0pQm0c8QG9e4lY8m8Jz7y2xZ1a2b fieldstation@example';
const SPACE_ID = '6f0c2d3e-1111-4a5b-9c8d-7e6f5a4b3c2d';
const PLATFORM_ID = '0b9f4c1a-2222-4d3e-8f7a-1b2c3d4e5f60';

export const SAMPLE_TARGETS = ['aws', 'gcp', 'openstack'] as const;
export type SampleTarget = (typeof SAMPLE_TARGETS)[number];

export function sampleRequest(target: SampleTarget, kind: 'space' | 'platform'): StackRequest {
  if (target === 'aws' && kind === 'space') {
    return {
      target,
      kind,
      input: {
        spaceId: SPACE_ID,
        name: 'lab',
        region: 'eu-west-1',
        availabilityZone: 'eu-west-1b',
        ingressCidrs: ['198.51.100.0/24'],
        sshCidrs: ['203.0.113.7/32'],
        sshPublicKey: SAMPLE_KEY,
      },
    };
  }
  if (target === 'aws') {
    return {
      target,
      kind: 'platform',
      input: {
        platformId: PLATFORM_ID,
        name: 'greenhouse',
        region: 'eu-west-1',
        instanceType: 't3.small',
        dataVolumeGb: 30,
        sshPublicKey: SAMPLE_KEY,
        space: {
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          subnetId: 'subnet-0a1b2c3d4e5f60718',
          securityGroupId: 'sg-0a1b2c3d4e5f60718',
          keyName: `fs-lab-${SPACE_ID}`,
        },
      },
    };
  }
  if (target === 'gcp') {
    if (kind === 'space')
      throw new Error('GCP has no space: a platform brings its own address and firewall');
    return {
      target,
      kind,
      input: {
        platformId: PLATFORM_ID,
        name: 'greenhouse',
        project: 'fieldstation-demo',
        region: 'europe-west1',
        zone: 'europe-west1-b',
        dataVolumeGb: 30,
        ingressCidrs: ['198.51.100.0/24'],
        sshCidrs: ['203.0.113.7/32'],
        sshPublicKey: SAMPLE_KEY,
      },
    };
  }
  if (kind === 'space') {
    return {
      target,
      kind,
      input: {
        mode: 'create',
        spaceId: SPACE_ID,
        name: 'lab',
        region: 'RegionOne',
        externalPool: 'public',
        subnetCidr: '10.43.1.0/24',
        ingressCidrs: ['198.51.100.0/24'],
        sshCidrs: ['203.0.113.7/32'],
      },
    };
  }
  return {
    target,
    kind,
    input: {
      platformId: PLATFORM_ID,
      name: 'greenhouse',
      region: 'RegionOne',
      flavorName: 'm1.small',
      imageName: 'Ubuntu 24.04',
      dataVolumeGb: 30,
      sshPublicKey: SAMPLE_KEY,
      space: {
        networkId: '5d2c1b0a-3333-4e4f-8a9b-0c1d2e3f4a5b',
        securityGroupId: '7a6b5c4d-4444-4f3e-9d2c-1b0a9f8e7d6c',
        externalPool: 'public',
      },
    },
  };
}
