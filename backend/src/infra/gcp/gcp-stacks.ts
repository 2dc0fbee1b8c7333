import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import { FieldstationStack, type StateBackend } from '../core/fieldstation-stack';
import { ownerLabels, PLATFORM_ID_LABEL } from '../core/labels';
import { declareOutputs } from '../core/declare-outputs';
import { PLATFORM_OUTPUTS } from '../core/outputs';
import { SSH_USER } from '../core/ports';
import type { gcpPlatformInputSchema } from './gcp-inputs';
import { GcpPlatform } from './gcp-platform';

// The service-account key reaches the provider as GOOGLE_CREDENTIALS in the runner's child
// environment; the provider block holds only the (non-secret) project and region.
export class GcpPlatformStack extends FieldstationStack {
  constructor(
    scope: Construct,
    id: string,
    input: z.infer<typeof gcpPlatformInputSchema>,
    backend: StateBackend,
  ) {
    super(scope, id, { backend, labelKey: PLATFORM_ID_LABEL, ownerId: input.platformId });
    new GoogleProvider(this, 'google', { project: input.project, region: input.region });
    const platform = new GcpPlatform(this, 'platform', {
      input,
      labels: ownerLabels(PLATFORM_ID_LABEL, input.platformId),
    });
    declareOutputs(this, PLATFORM_OUTPUTS, {
      publicIp: platform.address.address,
      instanceId: platform.instance.instanceId,
      sshUser: SSH_USER,
      dataVolumeId: platform.dataDisk.id,
    });
  }
}
