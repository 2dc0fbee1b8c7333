import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobQueue } from '../jobs/job-queue.service';
import type { HealthDto } from './health.dto';
import { LaunchPreflight } from './launch-preflight';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)),
  ]);
}

@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly preflight: LaunchPreflight,
  ) {}

  async check(): Promise<HealthDto> {
    const [database, redis, launch] = await Promise.all([
      withTimeout(this.dataSource.query('SELECT 1')).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      withTimeout(this.jobs.ping()).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      this.preflight.readiness(),
    ]);
    const workers = redis === 'up' ? await withTimeout(this.jobs.workerCount()).catch(() => 0) : 0;
    return {
      status: database === 'up' && redis === 'up' ? 'ok' : 'degraded',
      database,
      redis,
      workers,
      version: process.env.npm_package_version ?? '0.1.0',
      launchReady: launch.ready,
      launchTools: launch.tools,
    };
  }
}
