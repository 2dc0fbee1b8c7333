import { HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ApiError } from '../common/api-error';
import { ServerKey } from '../crypto/server-key';
import { RedisConnection } from '../jobs/redis-connection';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * Fixed-window counters in Redis, shared by every API process of one installation (the key
 * namespace comes from the server key, so separate installations on one Redis never collide).
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(connection: RedisConnection, serverKey: ServerKey) {
    this.redis = new Redis(connection.url, { maxRetriesPerRequest: 2 });
    this.prefix = `fieldstation:${serverKey.id}:rate:`;
  }

  /** Counts one attempt; throws 429 once the window's limit is exceeded. */
  async consume(key: string, { limit, windowSeconds }: RateLimit): Promise<void> {
    const count = await this.increment(key, windowSeconds);
    if (count > limit) await this.reject(key);
  }

  /** Throws 429 if `key` already reached its limit, without counting. */
  async check(key: string, { limit }: RateLimit): Promise<void> {
    const count = Number(await this.redis.get(this.prefix + key));
    if (count >= limit) await this.reject(key);
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const [[, count]] = (await this.redis
      .multi()
      .incr(this.prefix + key)
      .expire(this.prefix + key, windowSeconds, 'NX')
      .exec()) as [[null, number]];
    return count;
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  private async reject(key: string): Promise<never> {
    const retryAfterSeconds = Math.max(1, await this.redis.ttl(this.prefix + key));
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      'RATE_LIMITED',
      `Too many attempts; try again in ${retryAfterSeconds} seconds`,
      { retryAfterSeconds },
    );
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
