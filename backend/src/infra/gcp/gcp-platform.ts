import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { ComputeDisk } from '@cdktf/provider-google/lib/compute-disk';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeInstance } from '@cdktf/provider-google/lib/compute-instance';
import { DataGoogleComputeImage } from '@cdktf/provider-google/lib/data-google-compute-image';
import { DataGoogleComputeZones } from '@cdktf/provider-google/lib/data-google-compute-zones';
import { Fn, TerraformLocal } from 'cdktf';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { buildCloudInit } from '../core/cloud-init';
import { GCP_DATA_DEVICE, PLATFORM_PORTS, SSH_PORT, SSH_USER } from '../core/ports';
import type { gcpPlatformInputSchema } from './gcp-inputs';

export interface GcpPlatformConfig {
  input: z.infer<typeof gcpPlatformInputSchema>;
  labels: Record<string, string>;
}

/**
 * The platform VM on Compute Engine: image from a family, a persistent data disk and a static
 * address, and firewall rules that target only this instance's network tag.
 */
export class GcpPlatform extends Construct {
  readonly instance: ComputeInstance;
  readonly dataDisk: ComputeDisk;
  readonly address: ComputeAddress;
  readonly firewalls: ComputeFirewall[];
  /** The network tag only this platform's instance carries. */
  readonly targetTag: string;

  constructor(scope: Construct, id: string, { input, labels }: GcpPlatformConfig) {
    super(scope, id);
    const prefix = `fs-${input.name}`;
    this.targetTag = `fieldstation-${input.platformId}`;

    // Disk and instance must share a zone, and the disk cannot reference the instance (the
    // instance attaches the disk), so both read the same local.
    const zone = new TerraformLocal(
      this,
      'zone',
      input.zone ??
        Fn.element(
          new DataGoogleComputeZones(this, 'zones', { region: input.region, status: 'UP' }).names,
          0,
        ),
    );

    const image = new DataGoogleComputeImage(this, 'image', {
      family: input.imageFamily,
      project: input.imageProject,
    });

    this.address = new ComputeAddress(this, 'address', {
      name: `${prefix}-ip`,
      region: input.region,
      labels,
    });

    this.dataDisk = new ComputeDisk(this, 'data', {
      name: `${prefix}-data`,
      zone: zone.asString,
      size: input.dataVolumeGb,
      type: 'pd-balanced',
      labels,
    });

    this.instance = new ComputeInstance(this, 'instance', {
      name: `${prefix}-vm`,
      machineType: input.machineType,
      zone: zone.asString,
      tags: [this.targetTag],
      labels,
      bootDisk: { initializeParams: { image: image.selfLink, size: 16, labels } },
      attachedDisk: [{ source: this.dataDisk.id, deviceName: GCP_DATA_DEVICE }],
      networkInterface: [
        { network: input.network, accessConfig: [{ natIp: this.address.address }] },
      ],
      metadata: {
        'ssh-keys': `${SSH_USER}:${input.sshPublicKey}`,
        'user-data': buildCloudInit({
          platformId: input.platformId,
          sshPublicKey: input.sshPublicKey,
        }),
      },
      // Changing the machine type stops and restarts the VM instead of failing.
      allowStoppingForUpdate: true,
      // A newer image in the family must not replace a running platform.
      lifecycle: { ignoreChanges: ['boot_disk[0].initialize_params[0].image'] },
    });

    const firewall = (name: string, ports: number[], sourceRanges: string[]) =>
      new ComputeFirewall(this, `firewall-${name}`, {
        name: `${prefix}-${name}`,
        description: `Fieldstation platform ${input.platformId}: ${name}`,
        network: input.network,
        direction: 'INGRESS',
        allow: [{ protocol: 'tcp', ports: ports.map(String) }],
        sourceRanges,
        targetTags: [this.targetTag],
      });
    this.firewalls = [
      firewall('ssh', [SSH_PORT], input.sshCidrs),
      firewall(
        'services',
        PLATFORM_PORTS.map((p) => p.port),
        input.ingressCidrs,
      ),
    ];
  }
}
