import {
  Aspects,
  LocalBackend,
  TerraformBackend,
  TerraformStack,
  type TerraformRemoteState,
} from 'cdktf';
import type { Construct } from 'constructs';
import { RequiredLabelAspect } from './label-aspect';

/**
 * Where a stack keeps its state. `local` is a file in the stack's working directory; `pg`
 * uses a PostgreSQL schema per stack, with the connection string passed to the runner as
 * PG_CONN_STR so it never lands in the synthesized file.
 */
export type StateBackend = { type: 'local' } | { type: 'pg'; schemaName: string };

export interface FieldstationStackConfig {
  backend: StateBackend;
  /** Owner label (`fieldstation-platform-id` / `fieldstation-space-id`) and its value. */
  labelKey: string;
  ownerId: string;
}

/** Base of every Fieldstation stack: an explicit state backend and the labelling policy. */
export abstract class FieldstationStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: FieldstationStackConfig) {
    super(scope, id);
    if (config.backend.type === 'local') {
      new LocalBackend(this, { path: 'terraform.tfstate' });
    } else {
      new PgEnvBackend(this, config.backend.schemaName);
    }
    Aspects.of(this).add(new RequiredLabelAspect(config.labelKey, config.ownerId));
  }
}

/** cdktf's PgBackend requires `connStr` in the config; this one leaves it to PG_CONN_STR. */
class PgEnvBackend extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly schemaName: string,
  ) {
    super(scope, 'backend', 'pg');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { schema_name: this.schemaName };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { schema_name: this.schemaName };
  }

  getRemoteStateDataSource(): TerraformRemoteState {
    throw new Error('Fieldstation passes outputs between stacks through config, not remote state');
  }
}
