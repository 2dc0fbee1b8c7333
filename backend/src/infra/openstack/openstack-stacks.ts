import type { Construct } from 'constructs';
import type { z } from 'zod';
import { FieldstationStack, type StateBackend } from '../core/fieldstation-stack';
import { ownerLabels, PLATFORM_ID_LABEL, SPACE_ID_LABEL } from '../core/labels';
import { declareOutputs } from '../core/declare-outputs';
import { OPENSTACK_SPACE_OUTPUTS, PLATFORM_OUTPUTS } from '../core/outputs';
import { SSH_USER } from '../core/ports';
import type { openstackPlatformInputSchema, openstackSpaceInputSchema } from './openstack-inputs';
import {
  OpenstackExistingNetwork,
  OpenstackNetwork,
  type OpenstackSpaceNetwork,
} from './openstack-network';
import { OpenstackPlatform } from './openstack-platform';
import { OpenstackProvider } from './openstack-resources';

// Credentials (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, …)
// reach the provider through the runner's child environment; the provider block holds the region.

export class OpenstackSpaceStack extends FieldstationStack {
  constructor(
    scope: Construct,
    id: string,
    input: z.infer<typeof openstackSpaceInputSchema>,
    backend: StateBackend,
  ) {
    super(scope, id, { backend, labelKey: SPACE_ID_LABEL, ownerId: input.spaceId });
    new OpenstackProvider(this, 'openstack', { region: input.region });
    const network: OpenstackSpaceNetwork =
      input.mode === 'existing'
        ? new OpenstackExistingNetwork(this, 'network', input)
        : new OpenstackNetwork(this, 'network', {
            input,
            tags: ownerLabels(SPACE_ID_LABEL, input.spaceId),
          });
    declareOutputs(this, OPENSTACK_SPACE_OUTPUTS, {
      networkId: network.networkId,
      securityGroupId: network.securityGroupId,
      externalPool: input.externalPool,
    });
  }
}

export class OpenstackPlatformStack extends FieldstationStack {
  constructor(
    scope: Construct,
    id: string,
    input: z.infer<typeof openstackPlatformInputSchema>,
    backend: StateBackend,
  ) {
    super(scope, id, { backend, labelKey: PLATFORM_ID_LABEL, ownerId: input.platformId });
    new OpenstackProvider(this, 'openstack', { region: input.region });
    const platform = new OpenstackPlatform(this, 'platform', {
      input,
      tags: ownerLabels(PLATFORM_ID_LABEL, input.platformId),
    });
    declareOutputs(this, PLATFORM_OUTPUTS, {
      publicIp: platform.floatingIp.address,
      instanceId: platform.instance.id,
      sshUser: SSH_USER,
      dataVolumeId: platform.dataVolume.id,
    });
  }
}
