import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { providerEnvironment, type CloudCredentials } from './provider-environment';
import type { InfraLogSink } from './runner/infra-log-entry';
import type { TerraformOutput, TerraformRunner } from './runner/terraform-runner';
import { stackWorkDir, type StackRequest, type StackSynthesizer } from './stack-synthesizer';

export interface CloudStackRun {
  userId: string;
  request: StackRequest;
  credentials: CloudCredentials;
  onEvent: InfraLogSink;
  signal?: AbortSignal;
}

/**
 * Applies and destroys one Space or Platform stack: synthesis into the stack's working dir,
 * then `init` + `apply`/`destroy`. Both are idempotent, so a retried or resumed job simply
 * runs them again; the state file in the working dir is what a later destroy works from.
 */
export class CloudStacks {
  constructor(
    private readonly dataDir: string,
    private readonly synthesizer: StackSynthesizer,
    private readonly runner: TerraformRunner,
  ) {}

  async apply(run: CloudStackRun): Promise<Record<string, TerraformOutput>> {
    const options = await this.prepare(run);
    await this.runner.apply(options);
    return this.runner.outputs(options);
  }

  /** Destroys whatever the stack's state holds; a stack that was never synthesized has nothing. */
  async destroy(run: CloudStackRun): Promise<void> {
    const workDir = this.workDir(run);
    if (!existsSync(workDir)) return;
    await this.runner.destroy(await this.prepare(run));
    await rm(workDir, { recursive: true, force: true });
  }

  private async prepare(run: CloudStackRun) {
    const workDir = this.workDir(run);
    await this.synthesizer.synthesize(run.request, workDir);
    const options = {
      workDir,
      credentials: providerEnvironment(run.credentials),
      onEvent: run.onEvent,
      signal: run.signal,
    };
    await this.runner.init(options);
    return options;
  }

  private workDir(run: CloudStackRun): string {
    const input = run.request.input as { platformId?: string; spaceId?: string };
    const id = run.request.kind === 'platform' ? input.platformId! : input.spaceId!;
    return stackWorkDir(this.dataDir, run.userId, run.request.kind, id);
  }
}
