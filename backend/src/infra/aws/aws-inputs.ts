import { z } from 'zod';
import {
  cidr,
  cidrList,
  cloudIdentifier,
  dataVolumeGb,
  dnsName,
  ownerId,
  sshPublicKey,
} from '../core/fields';

const region = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');
const zone = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an availability zone such as eu-west-1a');

export const awsSpaceInputSchema = z.strictObject({
  spaceId: ownerId,
  name: dnsName,
  region,
  /** The public subnet's zone; when absent, the region's first available zone. */
  availabilityZone: zone.optional(),
  vpcCidr: cidr.default('10.42.0.0/16'),
  subnetCidr: cidr.default('10.42.1.0/24'),
  /** Who may reach the broker and Grafana ports. */
  ingressCidrs: cidrList.default(['0.0.0.0/0']),
  /** Who may reach SSH; narrow it to the orchestrator's address when you can. */
  sshCidrs: cidrList.default(['0.0.0.0/0']),
  sshPublicKey,
});
export type AwsSpaceInput = z.input<typeof awsSpaceInputSchema>;

/** What a platform needs from its space: the outputs of the applied space stack. */
export const awsSpaceOutputsSchema = z.strictObject({
  vpcId: cloudIdentifier,
  subnetId: cloudIdentifier,
  securityGroupId: cloudIdentifier,
  keyName: cloudIdentifier,
});
export type AwsSpaceOutputs = z.infer<typeof awsSpaceOutputsSchema>;

export const awsPlatformInputSchema = z.strictObject({
  platformId: ownerId,
  name: dnsName,
  region,
  instanceType: z
    .string()
    .regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance type such as t3.small')
    .default('t3.small'),
  dataVolumeGb: dataVolumeGb.default(20),
  sshPublicKey,
  space: awsSpaceOutputsSchema,
});
export type AwsPlatformInput = z.input<typeof awsPlatformInputSchema>;
