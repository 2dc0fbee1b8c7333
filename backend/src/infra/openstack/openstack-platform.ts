import { Construct } from 'constructs';
import type { z } from 'zod';
import { buildCloudInit } from '../core/cloud-init';
import type { openstackPlatformInputSchema } from './openstack-inputs';
import {
  BlockstorageVolume,
  ComputeInstance,
  ComputeKeypair,
  ComputeVolumeAttach,
  NetworkingFloatingip,
  NetworkingPort,
} from './openstack-resources';

export interface OpenstackPlatformConfig {
  input: z.infer<typeof openstackPlatformInputSchema>;
  tags: Record<string, string>;
}

/** The platform VM on OpenStack: key pair, port, instance, data volume and floating IP. */
export class OpenstackPlatform extends Construct {
  readonly instance: ComputeInstance;
  readonly dataVolume: BlockstorageVolume;
  readonly floatingIp: NetworkingFloatingip;

  constructor(scope: Construct, id: string, { input, tags }: OpenstackPlatformConfig) {
    super(scope, id);
    const prefix = `fs-${input.name}`;

    const keyPair = new ComputeKeypair(this, 'key-pair', {
      name: `${prefix}-${input.platformId}`,
      publicKey: input.sshPublicKey,
    });
    // An explicit port carries the security group, and the floating IP binds to it directly.
    const port = new NetworkingPort(this, 'port', {
      name: `${prefix}-port`,
      networkId: input.space.networkId,
      securityGroupIds: [input.space.securityGroupId],
      tags,
    });

    this.instance = new ComputeInstance(
      this,
      'instance',
      {
        name: `${prefix}-vm`,
        flavorName: input.flavorName,
        imageName: input.imageName,
        keyPair: keyPair.name,
        userData: buildCloudInit({
          platformId: input.platformId,
          sshPublicKey: input.sshPublicKey,
        }),
        network: [{ port: port.id }],
        metadata: tags,
        tags,
      },
      // A re-uploaded image with the same name must not replace a running platform.
      { lifecycle: { ignoreChanges: ['image_name', 'image_id'] } },
    );

    // The volume is created in the zone the instance was scheduled into (unless the cloud
    // names its block storage zones differently).
    this.dataVolume = new BlockstorageVolume(this, 'data', {
      name: `${prefix}-data`,
      size: input.dataVolumeGb,
      availabilityZone: input.volumeAvailabilityZone ?? this.instance.availabilityZone,
      metadata: tags,
    });
    new ComputeVolumeAttach(this, 'data-attachment', {
      instanceId: this.instance.id,
      volumeId: this.dataVolume.id,
    });

    this.floatingIp = new NetworkingFloatingip(this, 'floating-ip', {
      pool: input.space.externalPool,
      portId: port.id,
      description: `Fieldstation platform ${input.platformId}`,
      tags,
    });
  }
}
