import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobName, ScheduledJobName } from './job-names';
import { QueueName, type JobRequest } from './job.types';
import { RedisConnection } from './redis-connection';

/** The producer side: the rest of the app only calls `queue({ name, data })`. */
@Injectable()
export class JobQueue implements OnModuleDestroy {
  private readonly deployments: Queue;
  private readonly probe: Redis;

  constructor(private readonly connection: RedisConnection) {
    // A separate, non-blocking client that fails fast, so a health check never hangs on Redis.
    this.probe = connection.client({ lazyConnect: true, maxRetriesPerRequest: 1 });
    this.deployments = new Queue(QueueName.Deployments, {
      connection: connection.options(),
      prefix: connection.prefix,
      // Handlers rethrow only transient errors (see DeploymentRunner), so attempts bound those.
      defaultJobOptions: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    });
    connection.watch(this.deployments);
  }

  async queue<Name extends JobName>(request: JobRequest<Name>): Promise<string> {
    const job = await this.deployments.add(request.name, request.data, { jobId: request.jobId });
    return job.id!;
  }

  /** A job queued every `everyMs`; one schedule per name however many processes start. */
  async schedule(name: ScheduledJobName, everyMs: number): Promise<void> {
    await this.deployments.upsertJobScheduler(name, { every: everyMs }, { name, data: {} });
  }

  /**
   * Queues `request` at each time of a five-field UTC cron expression, under `schedulerId` (one
   * scheduler per id: upserting again replaces its timing and job).
   */
  async scheduleCron<Name extends JobName>(
    schedulerId: string,
    pattern: string,
    request: Omit<JobRequest<Name>, 'jobId'>,
  ): Promise<void> {
    await this.deployments.upsertJobScheduler(
      schedulerId,
      { pattern, tz: 'UTC' },
      { name: request.name, data: request.data },
    );
  }

  /** Ends a scheduler of {@link scheduleCron} (none is fine). */
  async unschedule(schedulerId: string): Promise<void> {
    await this.deployments.removeJobScheduler(schedulerId);
  }

  /** The ids of the schedulers currently in Redis. */
  async schedulerIds(): Promise<string[]> {
    const schedulers = await this.deployments.getJobSchedulers(0, -1);
    return schedulers.map((scheduler) => scheduler.key);
  }

  /** A scheduler's cron pattern, or null when there is none under that id. */
  async schedulerPattern(schedulerId: string): Promise<string | null> {
    const scheduler = await this.deployments.getJobScheduler(schedulerId);
    return scheduler?.pattern ?? null;
  }

  /** Round-trips to Redis; used by the health check. */
  async ping(): Promise<void> {
    if (this.probe.status === 'wait') await this.probe.connect();
    await this.probe.ping();
  }

  /** Workers currently connected to the queue, in this process or any other. */
  async workerCount(): Promise<number> {
    return this.deployments.getWorkersCount();
  }

  async onModuleDestroy(): Promise<void> {
    await this.deployments.close();
    this.probe.disconnect();
    this.connection.close();
  }
}
