import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { JOB_HANDLER } from './job-handler.decorator';
import { ALL_JOB_NAMES, type JobName } from './job-names';
import { QueueName } from './job.types';
import { RedisConnection } from './redis-connection';
import { WorkerShutdown } from './worker-shutdown';

type Handler = (data: unknown, job: Job) => Promise<unknown>;

/**
 * The consumer side, started only in the `all` and `worker` roles. Handlers are methods marked
 * with `@OnJob(name)`; start-up stops unless every job name has exactly one handler.
 */
@Injectable()
export class JobWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobWorker.name);
  private readonly handlers = new Map<string, Handler>();
  private worker: Worker | undefined;

  constructor(
    private readonly connection: RedisConnection,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly shutdown: WorkerShutdown,
  ) {}

  onApplicationBootstrap(): void {
    this.discoverHandlers();
    assertEveryJobHandled(this.handlers.keys());
    this.worker = new Worker(QueueName.Deployments, (job) => this.dispatch(job), {
      connection: this.connection.options(),
      prefix: this.connection.prefix,
      concurrency: 2,
    });
    this.connection.watch(this.worker);
    this.worker.on('failed', (job, error) =>
      this.logger.warn(`job ${job?.name} ${job?.id} failed: ${error.message}`),
    );
  }

  get handledJobNames(): string[] {
    return [...this.handlers.keys()];
  }

  private async dispatch(job: Job): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new UnrecoverableError(`No handler for job "${job.name}"`);
    return handler(job.data, job);
  }

  private discoverHandlers(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<JobName | undefined>(JOB_HANDLER, fn as Handler);
        if (!name) continue;
        if (this.handlers.has(name)) throw new Error(`Two handlers for job "${name}"`);
        this.handlers.set(name, (fn as Handler).bind(instance));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Running jobs stop their step and return to the queue; close() waits for them to do so.
    this.shutdown.begin();
    await this.worker?.close();
  }
}

/** Throws naming the job names without a handler, so a missing one stops start-up, not a job. */
export function assertEveryJobHandled(
  handled: Iterable<string>,
  names: readonly JobName[] = ALL_JOB_NAMES,
): void {
  const known = new Set(handled);
  const missing = names.filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new Error(
      `No handler for job ${missing.map((name) => `"${name}"`).join(', ')}: ` +
        'add an @OnJob method for it to a provider the worker loads',
    );
  }
}
