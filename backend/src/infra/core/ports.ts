import { STANDARD_PORTS } from '@fieldstation/platform-stack';

/**
 * Ports the platform exposes (cloud platforms keep the standard ones); SSH is separate because
 * its source CIDRs can be narrower. The RabbitMQ management API stays on the host's loopback.
 */
export const PLATFORM_PORTS = (['amqp', 'amqps', 'mqtt', 'mqtts', 'grafana'] as const).map(
  (name) => ({ name, port: STANDARD_PORTS[name] }),
);

export const SSH_PORT = 22;

/** The user the VM is prepared for; Ansible connects as this user. */
export const SSH_USER = 'fieldstation';

/**
 * How the data volume is attached, for the host preparation that formats and mounts it.
 * AWS: requested device name (Nitro instances expose it as NVMe, serial = volume id without
 * the dash). GCP: the guest sees /dev/disk/by-id/google-<name>. OpenStack assigns the device
 * itself (virtio serial = the first 20 characters of the volume id).
 */
export const AWS_DATA_DEVICE = '/dev/sdf';
export const GCP_DATA_DEVICE = 'fieldstation-data';

/** The stable guest path of a platform's data volume, from its target and volume id output. */
export function dataDevicePath(target: 'aws' | 'gcp' | 'openstack', volumeId: string): string {
  switch (target) {
    case 'aws':
      return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`;
    case 'gcp':
      return `/dev/disk/by-id/google-${GCP_DATA_DEVICE}`;
    case 'openstack':
      return `/dev/disk/by-id/virtio-${volumeId.slice(0, 20)}`;
  }
}
