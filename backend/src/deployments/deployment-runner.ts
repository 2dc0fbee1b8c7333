import { Injectable, Logger } from '@nestjs/common';
import { WaitingError, type Job } from 'bullmq';
import type { DataKey } from '../crypto/data-key';
import { DeploymentGrants, GrantUnavailableError } from '../grants/deployment-grants.service';
import type { DeploymentJobData } from '../jobs/job-names';
import { WorkerShutdown } from '../jobs/worker-shutdown';
import type { Deployment } from './deployment.entity';
import { DeploymentEvents } from './deployment-events';
import { DeploymentLog, type LogLine } from './deployment-log';
import { DeploymentsService } from './deployments.service';

/** What a job handler gets while its deployment runs. */
export interface DeploymentRun {
  deployment: Deployment;
  /** The user's data key, from the deployment's grant: opens stored secrets. */
  dataKey: DataKey;
  /** Aborted when the user cancels. */
  signal: AbortSignal;
  /** Appends in call order; safe to call without awaiting from a child process's output. */
  log(line: LogLine): Promise<void>;
  /** Runs one named step with its own time limit; the step shows in the record and the log. */
  step<T>(name: string, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export class StepTimeoutError extends Error {
  constructor(step: string, timeoutMs: number) {
    super(`Step ${step} did not finish within ${Math.round(timeoutMs / 60000)} min`);
  }
}

export class DeploymentCancelledError extends Error {
  constructor() {
    super('Cancelled by the user');
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);

/** Network hiccups of the orchestrator itself (Redis, database); worth another attempt. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/**
 * The worker side of every long action: opens the grant, runs the handler's steps, records the
 * outcome, and deletes the grant once the deployment ended. A finished deployment is never run
 * again, so a redelivered job (stalled worker, duplicate enqueue) is harmless.
 */
@Injectable()
export class DeploymentRunner {
  private readonly logger = new Logger(DeploymentRunner.name);

  constructor(
    private readonly deployments: DeploymentsService,
    private readonly log: DeploymentLog,
    private readonly grants: DeploymentGrants,
    private readonly events: DeploymentEvents,
    private readonly shutdown: WorkerShutdown,
  ) {}

  async run(
    job: Job<DeploymentJobData>,
    work: (run: DeploymentRun) => Promise<void>,
    onFailure: (deployment: Deployment, error: Error) => Promise<void>,
  ): Promise<void> {
    const { deploymentId } = job.data;
    const deployment = await this.deployments.getById(deploymentId);
    if (this.deployments.isFinished(deployment)) return;

    const cancel = new AbortController();
    const unsubscribe = await this.events.onCancel(deploymentId, () => cancel.abort());
    let finished = false;
    try {
      if (await this.events.isCancelRequested(deploymentId)) throw new DeploymentCancelledError();
      const dataKey = await this.grants.open(deploymentId, deployment.userId);
      await work(this.createRun(job, deployment, dataKey, cancel.signal));
      await this.deployments.finish(deploymentId, 'succeeded');
      finished = true;
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (this.shutdown.signal.aborted && !cancel.signal.aborted) {
        // Not a failure: back to the queue, unfinished, for the next worker to resume.
        await this.log.append(deploymentId, {
          level: 'warn',
          message: 'The worker is stopping; the deployment continues when a worker runs again',
        });
        await job.moveToWait(job.token);
        throw new WaitingError();
      }
      const attemptsLeft = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      if (isTransient(error) && attemptsLeft) {
        await this.log.append(deploymentId, {
          level: 'warn',
          message: `${error.message}; trying again`,
        });
        throw error;
      }
      await onFailure(await this.deployments.getById(deploymentId), error).catch((hookError) =>
        this.logger.error(`failure hook of ${deploymentId}: ${(hookError as Error).message}`),
      );
      const cancelled = error instanceof DeploymentCancelledError || cancel.signal.aborted;
      await this.deployments.finish(
        deploymentId,
        cancelled ? 'cancelled' : 'failed',
        cancelled ? 'Cancelled by the user' : describe(error),
      );
      finished = true;
    } finally {
      unsubscribe();
      if (finished) await this.grants.revoke(deploymentId);
    }
  }

  private createRun(
    job: Job<DeploymentJobData>,
    deployment: Deployment,
    dataKey: DataKey,
    cancelled: AbortSignal,
  ): DeploymentRun {
    // Output callbacks fire without awaiting: chain the appends so lines keep their order.
    let written: Promise<unknown> = Promise.resolve();
    const log = (line: LogLine) => {
      const appended = written.then(() => this.log.append(deployment.id, line));
      written = appended.catch((error: Error) =>
        this.logger.warn(`log line of ${deployment.id} lost: ${error.message}`),
      );
      return written.then(() => undefined);
    };
    return {
      deployment,
      dataKey,
      signal: cancelled,
      log,
      step: async (name, timeoutMs, work) => {
        if (cancelled.aborted) throw new DeploymentCancelledError();
        await this.deployments.startStep(deployment.id, name);
        await job.updateProgress({ step: name });
        const timeout = AbortSignal.timeout(timeoutMs);
        try {
          const result = await work(AbortSignal.any([cancelled, timeout, this.shutdown.signal]));
          await written;
          return result;
        } catch (error) {
          await written;
          if (cancelled.aborted) throw new DeploymentCancelledError();
          if (timeout.aborted) throw new StepTimeoutError(name, timeoutMs);
          throw error;
        }
      },
    };
  }
}

function describe(error: Error): string {
  if (error instanceof GrantUnavailableError) {
    return 'The permission to use your credentials for this deployment expired; start it again';
  }
  return error.message || error.name;
}
