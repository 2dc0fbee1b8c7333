import { DataResource, TerraformOutput, type App } from 'cdktf';
import { FieldstationStack, type StateBackend } from '../core/fieldstation-stack';
import { PLATFORM_ID_LABEL } from '../core/labels';

/**
 * A Fieldstation stack (same base class, backend and labelling aspect as the cloud stacks)
 * holding only the built-in `terraform_data`, so OpenTofu can apply it offline.
 */
export class ProbeStack extends FieldstationStack {
  constructor(app: App, marker: string, backend: StateBackend = { type: 'local' }) {
    super(app, 'probe', { backend, labelKey: PLATFORM_ID_LABEL, ownerId: 'p1' });
    const data = new DataResource(this, 'data', { input: { marker } });
    new TerraformOutput(this, 'marker', { value: data.output });
  }
}
