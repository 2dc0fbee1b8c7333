import { DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobQueue } from './job-queue.service';
import { JobWorker } from './job-worker.service';
import { RedisConnection } from './redis-connection';
import { WorkerShutdown } from './worker-shutdown';

@Global()
@Module({})
export class JobsModule {
  static forRoot(options: {
    redisUrl: string;
    queuePrefix: string;
    runWorker: boolean;
  }): DynamicModule {
    const providers: Provider[] = [
      {
        provide: RedisConnection,
        useValue: new RedisConnection(options.redisUrl, options.queuePrefix),
      },
      JobQueue,
      WorkerShutdown,
    ];
    if (options.runWorker) providers.push(JobWorker);
    return {
      module: JobsModule,
      imports: [DiscoveryModule],
      providers,
      exports: [JobQueue, RedisConnection, WorkerShutdown],
    };
  }
}
