import { z } from 'zod';
import {
  cidr,
  cidrList,
  cloudIdentifier,
  dataVolumeGb,
  dnsName,
  imageName,
  ownerId,
  sshPublicKey,
} from '../core/fields';

const common = {
  spaceId: ownerId,
  name: dnsName,
  region: cloudIdentifier.optional(),
  /** The external network floating IPs come from. */
  externalPool: cloudIdentifier,
};

/**
 * An OpenStack space either records what already exists in the project (looked up by name at
 * apply time, so a typo fails early) or creates its own network, subnet, router and group.
 */
export const openstackSpaceInputSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    ...common,
    mode: z.literal('existing'),
    networkName: cloudIdentifier,
    securityGroupName: cloudIdentifier,
  }),
  z.strictObject({
    ...common,
    mode: z.literal('create'),
    subnetCidr: cidr.default('10.43.1.0/24'),
    dnsNameservers: z.array(z.ipv4()).min(1).max(3).default(['1.1.1.1', '9.9.9.9']),
    ingressCidrs: cidrList.default(['0.0.0.0/0']),
    sshCidrs: cidrList.default(['0.0.0.0/0']),
  }),
]);
export type OpenstackSpaceInput = z.input<typeof openstackSpaceInputSchema>;

export const openstackSpaceOutputsSchema = z.strictObject({
  networkId: cloudIdentifier,
  securityGroupId: cloudIdentifier,
  externalPool: cloudIdentifier,
});
export type OpenstackSpaceOutputs = z.infer<typeof openstackSpaceOutputsSchema>;

export const openstackPlatformInputSchema = z.strictObject({
  platformId: ownerId,
  name: dnsName,
  region: cloudIdentifier.optional(),
  /** Defaults recorded on the space, possibly overridden per platform. */
  flavorName: cloudIdentifier,
  imageName,
  dataVolumeGb: dataVolumeGb.default(20),
  /**
   * Block storage zone, for clouds whose Cinder zones are named differently from their Nova
   * zones; by default the volume goes to the zone the instance was scheduled into.
   */
  volumeAvailabilityZone: cloudIdentifier.optional(),
  sshPublicKey,
  space: openstackSpaceOutputsSchema,
});
export type OpenstackPlatformInput = z.input<typeof openstackPlatformInputSchema>;
