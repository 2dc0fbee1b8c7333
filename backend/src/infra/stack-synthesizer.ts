import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { App, TerraformStack } from 'cdktf';
import type { z } from 'zod';
import {
  awsPlatformInputSchema,
  awsSpaceInputSchema,
  type AwsPlatformInput,
  type AwsSpaceInput,
} from './aws/aws-inputs';
import { ownerId } from './core/fields';
import type { StateBackend } from './core/fieldstation-stack';
import { terraformLiteral } from './core/terraform-literal';
import { gcpPlatformInputSchema, type GcpPlatformInput } from './gcp/gcp-inputs';
import {
  openstackPlatformInputSchema,
  openstackSpaceInputSchema,
  type OpenstackPlatformInput,
  type OpenstackSpaceInput,
} from './openstack/openstack-inputs';

const SCRATCH_PREFIX = '.synth-';

export type StackKind = 'space' | 'platform';

/** What to synthesize. Inputs are validated (and defaulted) again here, at the infra seam. */
export type StackRequest =
  | { target: 'aws'; kind: 'space'; input: AwsSpaceInput }
  | { target: 'aws'; kind: 'platform'; input: AwsPlatformInput }
  | { target: 'gcp'; kind: 'platform'; input: GcpPlatformInput }
  | { target: 'openstack'; kind: 'space'; input: OpenstackSpaceInput }
  | { target: 'openstack'; kind: 'platform'; input: OpenstackPlatformInput };

export interface StackSynthesizerOptions {
  /** `local` (default): state file in the working dir; `pg`: runner needs PG_CONN_STR. */
  stateBackend?: 'local' | 'pg';
}

export interface SynthesizedStack {
  workDir: string;
  /** The Terraform JSON configuration the runner applies. */
  configFile: string;
}

/** The working directory of one stack: `<dataDir>/stacks/<userId>/<kind>/<id>/`. */
export function stackWorkDir(dataDir: string, userId: string, kind: StackKind, id: string): string {
  // Both ids become path segments: refuse anything that could leave the data dir.
  return join(dataDir, 'stacks', ownerId.parse(userId), kind, ownerId.parse(id));
}

/**
 * Synthesizes one stack in-process (one cdktf App per call) into its working directory as
 * `cdk.tf.json`, next to the local state file. Nothing here spawns the cdktf CLI.
 */
export class StackSynthesizer {
  private readonly stateBackend: 'local' | 'pg';

  constructor(options: StackSynthesizerOptions = {}) {
    this.stateBackend = options.stateBackend ?? 'local';
  }

  async synthesize(request: StackRequest, workDir: string): Promise<SynthesizedStack> {
    return synthesizeInto(workDir, (app) => buildStack(app, request, this.backendFor(request)));
  }

  private backendFor(request: StackRequest): StateBackend {
    if (this.stateBackend === 'local') return { type: 'local' };
    return { type: 'pg', schemaName: stackStateSchema(request) };
  }
}

/** The PostgreSQL schema holding a stack's state when state lives in PostgreSQL. */
export function stackStateSchema(request: StackRequest): string {
  const id = 'platformId' in request.input ? request.input.platformId : request.input.spaceId;
  return `fieldstation_${request.kind}_${ownerId.parse(id).replace(/-/g, '_')}`;
}

/**
 * Builds one stack in a fresh App and moves its `cdk.tf.json` into `workDir`. cdktf writes
 * `<outdir>/stacks/<id>/cdk.tf.json`; synthesizing into a scratch dir and renaming the one
 * file means a failed synthesis never leaves a half-written config. Exported for tests that
 * apply a synthesized stack with the real OpenTofu binary.
 */
export async function synthesizeInto(
  workDir: string,
  build: (app: App) => TerraformStack | Promise<TerraformStack>,
): Promise<SynthesizedStack> {
  await mkdir(workDir, { recursive: true });
  // Scratch dirs left by a process killed mid-synthesis.
  for (const entry of await readdir(workDir)) {
    if (entry.startsWith(SCRATCH_PREFIX))
      await rm(join(workDir, entry), { recursive: true, force: true });
  }
  const outdir = join(workDir, `${SCRATCH_PREFIX}${randomUUID()}`);
  try {
    // Loaded here, not at import: the API imports this module for its schemas only.
    const { App } = await import('cdktf');
    const app = new App({ outdir, stackTraces: false });
    const stack = await build(app);
    app.synth();
    const configFile = join(workDir, 'cdk.tf.json');
    await rename(join(outdir, 'stacks', stack.node.id, 'cdk.tf.json'), configFile);
    return { workDir, configFile };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

// Each cloud's stacks (and provider bindings) load on first use: a worker launching an AWS
// platform never pays for the Google bindings, and importing this module stays cheap. Every
// input is validated, then made literal for OpenTofu (terraformLiteral) before any construct
// sees it: this is the one door user strings take into a stack.
async function buildStack(
  app: App,
  request: StackRequest,
  backend: StateBackend,
): Promise<TerraformStack> {
  const id = `${request.target}-${request.kind}`;
  switch (request.target) {
    case 'aws': {
      const { AwsPlatformStack, AwsSpaceStack } = await import('./aws/aws-stacks');
      return request.kind === 'space'
        ? new AwsSpaceStack(app, id, literalInput(awsSpaceInputSchema, request.input), backend)
        : new AwsPlatformStack(
            app,
            id,
            literalInput(awsPlatformInputSchema, request.input),
            backend,
          );
    }
    case 'gcp': {
      const { GcpPlatformStack } = await import('./gcp/gcp-stacks');
      return new GcpPlatformStack(
        app,
        id,
        literalInput(gcpPlatformInputSchema, request.input),
        backend,
      );
    }
    case 'openstack': {
      const { OpenstackPlatformStack, OpenstackSpaceStack } =
        await import('./openstack/openstack-stacks');
      return request.kind === 'space'
        ? new OpenstackSpaceStack(
            app,
            id,
            literalInput(openstackSpaceInputSchema, request.input),
            backend,
          )
        : new OpenstackPlatformStack(
            app,
            id,
            literalInput(openstackPlatformInputSchema, request.input),
            backend,
          );
    }
  }
}

function literalInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  return terraformLiteral(schema.parse(input));
}
