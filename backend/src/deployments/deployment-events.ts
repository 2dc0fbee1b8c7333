import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { isConnectionError, RedisConnection } from '../jobs/redis-connection';
import type { DeploymentStatus } from './deployment.entity';
import type { LogData, LogLevel } from './deployment-log-entry.entity';

export interface LogEvent {
  type: 'log';
  seq: number;
  level: LogLevel;
  step: string | null;
  message: string;
  data: LogData | null;
  createdAt: string;
}

export interface StatusEvent {
  type: 'status';
  status: DeploymentStatus;
  step: string | null;
  error: string | null;
}

export type DeploymentEvent = LogEvent | StatusEvent;

/**
 * Live deployment events over Redis pub/sub, so a log line written by a worker process reaches
 * the SSE streams of every API process. One subscriber connection per process, shared.
 */
@Injectable()
export class DeploymentEvents implements OnModuleDestroy {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<(event: DeploymentEvent) => void>>();
  private readonly cancelListeners = new Map<string, () => void>();

  constructor(private readonly connection: RedisConnection) {
    this.publisher = connection.client({ maxRetriesPerRequest: 3 });
  }

  /**
   * Best effort while Redis is unreachable: every event is stored first (deployment log and
   * record), and a stream that reconnects reads what it missed from there, so a job in progress
   * carries on through a Redis restart instead of failing on its next log line.
   */
  async publish(deploymentId: string, event: DeploymentEvent): Promise<void> {
    try {
      await this.publisher.publish(channel(deploymentId), JSON.stringify(event));
    } catch (error) {
      if (!isConnectionError(error)) throw error;
    }
  }

  /** Resolves once Redis confirmed the subscription, so no event published after it is missed. */
  async subscribe(
    deploymentId: string,
    listener: (event: DeploymentEvent) => void,
  ): Promise<() => void> {
    const subscriber = this.ensureSubscriber();
    let set = this.listeners.get(deploymentId);
    if (!set) {
      set = new Set();
      this.listeners.set(deploymentId, set);
      await subscriber.subscribe(channel(deploymentId));
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(deploymentId) === set) {
        this.listeners.delete(deploymentId);
        void subscriber.unsubscribe(channel(deploymentId)).catch(() => undefined);
      }
    };
  }

  /** Asks the worker running a deployment to stop; remembered for a job that has not started. */
  async requestCancel(deploymentId: string): Promise<void> {
    await this.publisher.set(CANCEL_PREFIX + deploymentId, '1', 'EX', 24 * 60 * 60);
    await this.publisher.publish(CANCEL_PREFIX + deploymentId, '1');
  }

  async isCancelRequested(deploymentId: string): Promise<boolean> {
    return (await this.publisher.exists(CANCEL_PREFIX + deploymentId)) === 1;
  }

  /** Calls `listener` when a cancel of this deployment is requested, from any process. */
  async onCancel(deploymentId: string, listener: () => void): Promise<() => void> {
    const subscriber = this.ensureSubscriber();
    this.cancelListeners.set(deploymentId, listener);
    await subscriber.subscribe(CANCEL_PREFIX + deploymentId);
    return () => {
      this.cancelListeners.delete(deploymentId);
      void subscriber.unsubscribe(CANCEL_PREFIX + deploymentId).catch(() => undefined);
    };
  }

  private ensureSubscriber(): Redis {
    if (!this.subscriber) {
      this.subscriber = this.connection.client();
      this.subscriber.on('message', (name: string, payload: string) => {
        if (name.startsWith(CANCEL_PREFIX)) {
          this.cancelListeners.get(name.slice(CANCEL_PREFIX.length))?.();
          return;
        }
        const deploymentId = name.slice(CHANNEL_PREFIX.length);
        const event = JSON.parse(payload) as DeploymentEvent;
        for (const listener of this.listeners.get(deploymentId) ?? []) listener(event);
      });
    }
    return this.subscriber;
  }

  onModuleDestroy(): void {
    this.publisher.disconnect();
    this.subscriber?.disconnect();
  }
}

const CHANNEL_PREFIX = 'fieldstation:deployment:';
const CANCEL_PREFIX = 'fieldstation:cancel:';

function channel(deploymentId: string): string {
  return CHANNEL_PREFIX + deploymentId;
}
