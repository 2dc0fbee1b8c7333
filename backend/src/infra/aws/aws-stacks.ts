import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import { FieldstationStack, type StateBackend } from '../core/fieldstation-stack';
import { ownerLabels, PLATFORM_ID_LABEL, SPACE_ID_LABEL } from '../core/labels';
import { declareOutputs } from '../core/declare-outputs';
import { AWS_SPACE_OUTPUTS, PLATFORM_OUTPUTS } from '../core/outputs';
import { SSH_USER } from '../core/ports';
import type { awsPlatformInputSchema, awsSpaceInputSchema } from './aws-inputs';
import { AwsNetwork } from './aws-network';
import { AwsPlatformInstance } from './aws-platform-instance';

// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the runner's child
// environment; the provider block only says which region.

export class AwsSpaceStack extends FieldstationStack {
  constructor(
    scope: Construct,
    id: string,
    input: z.infer<typeof awsSpaceInputSchema>,
    backend: StateBackend,
  ) {
    super(scope, id, { backend, labelKey: SPACE_ID_LABEL, ownerId: input.spaceId });
    new AwsProvider(this, 'aws', { region: input.region });
    const network = new AwsNetwork(this, 'network', {
      input,
      tags: ownerLabels(SPACE_ID_LABEL, input.spaceId),
    });
    declareOutputs(this, AWS_SPACE_OUTPUTS, {
      vpcId: network.vpc.id,
      subnetId: network.subnet.id,
      securityGroupId: network.securityGroup.id,
      keyName: network.keyPair.keyName,
      availabilityZone: network.subnet.availabilityZone,
    });
  }
}

export class AwsPlatformStack extends FieldstationStack {
  constructor(
    scope: Construct,
    id: string,
    input: z.infer<typeof awsPlatformInputSchema>,
    backend: StateBackend,
  ) {
    super(scope, id, { backend, labelKey: PLATFORM_ID_LABEL, ownerId: input.platformId });
    new AwsProvider(this, 'aws', { region: input.region });
    const platform = new AwsPlatformInstance(this, 'platform', {
      input,
      tags: ownerLabels(PLATFORM_ID_LABEL, input.platformId),
    });
    declareOutputs(this, PLATFORM_OUTPUTS, {
      publicIp: platform.publicIp.publicIp,
      instanceId: platform.instance.id,
      sshUser: SSH_USER,
      dataVolumeId: platform.dataVolume.id,
    });
  }
}
