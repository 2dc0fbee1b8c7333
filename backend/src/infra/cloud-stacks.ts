import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { providerEnvironment, type CloudCredentials } from './provider-environment';
import type { InfraLogSink } from './runner/infra-log-entry';
import type { TerraformOutput, TerraformRunner } from './runner/terraform-runner';
import {
  stackStateSchema,
  stackWorkDir,
  type StackRequest,
  type StackSynthesizer,
} from './stack-synthesizer';

export interface CloudStackRun {
  userId: string;
  request: StackRequest;
  credentials: CloudCredentials;
  onEvent: InfraLogSink;
  signal?: AbortSignal;
}

/**
 * Where stacks keep their Terraform state. `local`: a file in each stack's working dir (one
 * machine). `pg`: a schema per stack in Fieldstation's own PostgreSQL, so any worker on any
 * machine continues or destroys any stack; the synthesizer must use the `pg` backend too.
 */
export type StackStateStore = { type: 'local' } | { type: 'pg'; connectionString: string };

/** The local state file, as the `local` backend names it. */
const LOCAL_STATE_FILE = 'terraform.tfstate';

/**
 * Applies and destroys one Space or Platform stack: synthesis into the stack's working dir,
 * then `init` + `apply`/`destroy`. Both are idempotent, so a retried or resumed job simply
 * runs them again; the stack's state is what a later destroy works from.
 */
export class CloudStacks {
  constructor(
    private readonly dataDir: string,
    private readonly synthesizer: Pick<StackSynthesizer, 'synthesize'>,
    private readonly runner: TerraformRunner,
    private readonly state: StackStateStore = { type: 'local' },
  ) {}

  async apply(run: CloudStackRun): Promise<Record<string, TerraformOutput>> {
    const options = await this.prepare(run);
    await this.runner.apply(options);
    return this.runner.outputs(options);
  }

  /** Destroys whatever the stack's state holds; a stack that was never synthesized has nothing. */
  async destroy(run: CloudStackRun): Promise<void> {
    const workDir = this.workDir(run);
    // With state in PostgreSQL the stack may have been applied by a worker on another machine.
    if (this.state.type === 'local' && !existsSync(workDir)) return;
    await this.runner.destroy(await this.prepare(run));
    await rm(workDir, { recursive: true, force: true });
    if (this.state.type === 'pg') await this.dropState(this.state.connectionString, run.request);
  }

  private async prepare(run: CloudStackRun) {
    const workDir = this.workDir(run);
    await this.synthesizer.synthesize(run.request, workDir);
    const options = {
      workDir,
      credentials: { ...providerEnvironment(run.credentials), ...this.stateEnvironment() },
      onEvent: run.onEvent,
      signal: run.signal,
    };
    // A stack first applied with local state (before DATABASE_URL pointed at PostgreSQL) has
    // its state copied into its schema once; the local file is kept aside, no longer read.
    const localState = join(workDir, LOCAL_STATE_FILE);
    const migrateState = this.state.type === 'pg' && existsSync(localState);
    await this.runner.init({ ...options, migrateState });
    if (migrateState) await rename(localState, `${localState}.migrated`);
    return options;
  }

  /** PG_CONN_STR reaches only OpenTofu's environment and is scrubbed from its output. */
  private stateEnvironment(): Record<string, string> {
    if (this.state.type === 'local') return {};
    return { PG_CONN_STR: tofuConnectionString(this.state.connectionString) };
  }

  private async dropState(connectionString: string, request: StackRequest): Promise<void> {
    const client = new Client({ connectionString });
    await client.connect();
    try {
      const schema = client.escapeIdentifier(stackStateSchema(request));
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  }

  private workDir(run: CloudStackRun): string {
    const input = run.request.input as { platformId?: string; spaceId?: string };
    const id = run.request.kind === 'platform' ? input.platformId! : input.spaceId!;
    return stackWorkDir(this.dataDir, run.userId, run.request.kind, id);
  }
}

/**
 * OpenTofu's pg backend (lib/pq) requires TLS unless told otherwise, while node-postgres, which
 * Fieldstation itself uses with the same URL, does not: without an explicit `sslmode` both
 * connect the same way.
 */
export function tofuConnectionString(connectionString: string): string {
  const url = new URL(connectionString);
  if (!url.searchParams.has('sslmode')) url.searchParams.set('sslmode', 'disable');
  return url.toString();
}
