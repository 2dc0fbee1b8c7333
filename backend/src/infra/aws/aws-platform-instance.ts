import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { buildCloudInit } from '../core/cloud-init';
import { AWS_DATA_DEVICE } from '../core/ports';
import type { awsPlatformInputSchema } from './aws-inputs';

/** Canonical's AWS account; its images are looked up by name, never pinned by AMI id. */
const CANONICAL_OWNER = '099720109477';
const UBUNTU_LTS_IMAGES = 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*';

export interface AwsPlatformInstanceConfig {
  input: z.infer<typeof awsPlatformInputSchema>;
  tags: Record<string, string>;
}

/** The platform VM: latest Ubuntu LTS, encrypted gp3 data volume in its zone, Elastic IP. */
export class AwsPlatformInstance extends Construct {
  readonly image: DataAwsAmi;
  readonly instance: Instance;
  readonly dataVolume: EbsVolume;
  readonly publicIp: Eip;

  constructor(scope: Construct, id: string, { input, tags }: AwsPlatformInstanceConfig) {
    super(scope, id);
    const named = (suffix: string) => ({ ...tags, Name: `fs-${input.name}-${suffix}` });

    this.image = new DataAwsAmi(this, 'ubuntu', {
      mostRecent: true,
      owners: [CANONICAL_OWNER],
      filter: [
        { name: 'name', values: [UBUNTU_LTS_IMAGES] },
        { name: 'virtualization-type', values: ['hvm'] },
        { name: 'architecture', values: ['x86_64'] },
      ],
    });

    this.instance = new Instance(this, 'instance', {
      ami: this.image.id,
      instanceType: input.instanceType,
      subnetId: input.space.subnetId,
      vpcSecurityGroupIds: [input.space.securityGroupId],
      keyName: input.space.keyName,
      userData: buildCloudInit({ platformId: input.platformId, sshPublicKey: input.sshPublicKey }),
      rootBlockDevice: { encrypted: true, volumeType: 'gp3', volumeSize: 16, tags: named('root') },
      metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled' },
      // A newer Ubuntu image must not replace a running platform (and its host key).
      lifecycle: { ignoreChanges: ['ami'] },
      tags: named('vm'),
    });

    // The volume lives where the instance actually landed, whatever zone that is.
    this.dataVolume = new EbsVolume(this, 'data', {
      availabilityZone: this.instance.availabilityZone,
      size: input.dataVolumeGb,
      type: 'gp3',
      encrypted: true,
      tags: named('data'),
    });
    new VolumeAttachment(this, 'data-attachment', {
      deviceName: AWS_DATA_DEVICE,
      volumeId: this.dataVolume.id,
      instanceId: this.instance.id,
    });

    this.publicIp = new Eip(this, 'public-ip', {
      domain: 'vpc',
      instance: this.instance.id,
      tags: named('ip'),
    });
  }
}
