/** Ports the platform exposes; SSH is separate because its source CIDRs can be narrower. */
export const PLATFORM_PORTS = [
  { name: 'amqp', port: 5672 },
  { name: 'amqps', port: 5671 },
  { name: 'mqtt', port: 1883 },
  { name: 'mqtts', port: 8883 },
  { name: 'grafana', port: 3000 },
] as const;

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
