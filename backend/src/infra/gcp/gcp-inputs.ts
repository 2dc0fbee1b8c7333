import { z } from 'zod';
import {
  cidrList,
  cloudIdentifier,
  dataVolumeGb,
  dnsName,
  ownerId,
  sshPublicKey,
} from '../core/fields';

const region = z.string().regex(/^[a-z]+-[a-z]+\d+$/, 'must be a GCP region such as europe-west1');
const zone = z
  .string()
  .regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'must be a GCP zone such as europe-west1-b');

/** GCP needs no space: a platform brings its own address and firewall rules (by target tag). */
export const gcpPlatformInputSchema = z.strictObject({
  platformId: ownerId,
  name: dnsName,
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id'),
  region,
  /** When absent, the region's first zone that is UP. */
  zone: zone.optional(),
  machineType: cloudIdentifier.default('e2-small'),
  imageFamily: cloudIdentifier.default('ubuntu-2404-lts-amd64'),
  imageProject: cloudIdentifier.default('ubuntu-os-cloud'),
  network: cloudIdentifier.default('default'),
  dataVolumeGb: dataVolumeGb.default(20),
  ingressCidrs: cidrList.default(['0.0.0.0/0']),
  sshCidrs: cidrList.default(['0.0.0.0/0']),
  sshPublicKey,
});
export type GcpPlatformInput = z.input<typeof gcpPlatformInputSchema>;
