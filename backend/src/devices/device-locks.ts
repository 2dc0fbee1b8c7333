import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ApiError } from '../common/api-error';
import { RedisConnection } from '../jobs/redis-connection';

/**
 * Longer than any one change can take (an SSH connection and a few management calls of at most
 * 10 s each), so a lock never expires under a running change; a crashed process frees it then.
 */
const LOCK_MS = 120_000;

/** Deletes the lock only if it is still this holder's (it may have expired and been retaken). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * One broker change per device at a time, across every API process: create, rotate and revoke
 * hold the device's lock from reading its record to storing the result. Two rotates at once
 * could otherwise leave the broker with one new password and the registry with the other.
 * The loser is refused at once (409 DEVICE_BUSY) rather than queued behind a change whose
 * outcome it did not see.
 */
@Injectable()
export class DeviceLocks implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(connection: RedisConnection) {
    this.redis = connection.client({ maxRetriesPerRequest: 2 });
    this.prefix = `${connection.prefix}:device-lock:`;
  }

  async hold<T>(platformId: string, name: string, work: () => Promise<T>): Promise<T> {
    return this.holdAll(platformId, [name], work);
  }

  /**
   * Holds every named device's lock (a bulk change such as an import's revokes), or none: if one
   * is taken, those already taken here are released and the answer is 409 DEVICE_BUSY.
   */
  async holdAll<T>(
    platformId: string,
    names: readonly string[],
    work: () => Promise<T>,
  ): Promise<T> {
    const token = randomUUID();
    const keys = names.map((name) => `${this.prefix}${platformId}:${name}`);
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.set(key, token, 'PX', LOCK_MS, 'NX');
    const answers = (await pipeline.exec()) ?? [];
    const busy = names.find((_, index) => answers[index]?.[1] !== 'OK');
    try {
      if (busy !== undefined) {
        throw new ApiError(
          HttpStatus.CONFLICT,
          'DEVICE_BUSY',
          `Another change of device "${busy}" is in progress; try again when it has finished`,
        );
      }
      return await work();
    } finally {
      // A lock that cannot be released now expires by itself.
      await this.release(keys, token).catch(() => undefined);
    }
  }

  private async release(keys: readonly string[], token: string): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.eval(RELEASE, 1, key, token);
    await pipeline.exec();
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit();
  }
}
