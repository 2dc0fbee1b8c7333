import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ApiError } from '../common/api-error';
import { ServerKey } from '../crypto/server-key';
import { RedisConnection } from '../jobs/redis-connection';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/**
 * Exponential backoff for guesses: after `freeFailures` failed attempts, a key is blocked for
 * `baseSeconds`, doubling with each further failure up to `maxSeconds`. Failures are forgotten
 * `memorySeconds` after the last one, or as soon as an attempt succeeds.
 */
export interface Backoff {
  freeFailures: number;
  baseSeconds: number;
  maxSeconds: number;
  memorySeconds: number;
}

/**
 * One atomic step of a backoff: the block's remaining milliseconds if the key is blocked;
 * otherwise counts the attempt as a failure (blocking further ones once past the free failures)
 * and answers 0. Counting before the password is checked means parallel guesses cannot slip in
 * between a check and a failure being recorded.
 */
const BACKOFF_ATTEMPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return blocked end
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local excess = failures - tonumber(ARGV[1])
if excess >= 0 then
  local seconds = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(excess, 30))
  redis.call('SET', KEYS[2], '1', 'EX', math.floor(seconds))
end
return 0
`;

/** At most `concurrent` holders of a key at once; a holder that never lets go expires. */
export interface ConcurrencyLimit {
  concurrent: number;
  /** How long a slot stays taken if its holder dies without releasing it. */
  leaseSeconds: number;
  /** The 429's code. */
  code: string;
}

/**
 * Takes a slot atomically: drops expired leases (scored by expiry in ms), answers 0 when all
 * slots are taken, else adds this lease and answers 1.
 */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

/**
 * Fixed-window counters, concurrency slots and backoffs in Redis, shared by every API process of one installation
 * (the key namespace comes from the server key, so separate installations on one Redis never
 * collide).
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(connection: RedisConnection, serverKey: ServerKey) {
    this.redis = connection.client({ maxRetriesPerRequest: 2 });
    this.prefix = `fieldstation:${serverKey.id}:rate:`;
  }

  /** Counts one attempt; throws 429 once the window's limit is exceeded. */
  async consume(key: string, { limit, windowSeconds }: RateLimit): Promise<void> {
    const count = await this.increment(key, windowSeconds);
    if (count > limit) await this.reject(key);
  }

  /**
   * Takes one of the key's slots (429 with `limit.code` when all are taken) and answers the
   * function that gives it back.
   */
  async holdSlot(key: string, limit: ConcurrencyLimit): Promise<() => Promise<void>> {
    const slots = this.prefix + key + ':slots';
    const lease = randomUUID();
    const now = Date.now();
    const leaseMs = limit.leaseSeconds * 1000;
    const taken = (await this.redis.eval(
      TAKE_SLOT,
      1,
      slots,
      now,
      limit.concurrent,
      now + leaseMs,
      lease,
      leaseMs,
    )) as number;
    if (taken !== 1) {
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        limit.code,
        `At most ${limit.concurrent} at once; try again when one has finished`,
        { concurrent: limit.concurrent },
      );
    }
    return async () => {
      await this.redis.zrem(slots, lease);
    };
  }

  private async increment(key: string, windowSeconds: number): Promise<number> {
    const [[, count]] = (await this.redis
      .multi()
      .incr(this.prefix + key)
      .expire(this.prefix + key, windowSeconds, 'NX')
      .exec()) as [[null, number]];
    return count;
  }

  /**
   * Starts a guarded attempt under `key`: throws 429 while the key is blocked, otherwise counts
   * the attempt as failed until `succeeded(key)` clears it.
   */
  async attempt(key: string, backoff: Backoff): Promise<void> {
    const blockedMs = (await this.redis.eval(
      BACKOFF_ATTEMPT,
      2,
      this.prefix + key + ':failures',
      this.prefix + key + ':blocked',
      backoff.freeFailures,
      backoff.baseSeconds,
      backoff.maxSeconds,
      backoff.memorySeconds,
    )) as number;
    if (blockedMs > 0) tooManyAttempts(Math.ceil(blockedMs / 1000));
  }

  async succeeded(key: string): Promise<void> {
    await this.redis.del(this.prefix + key + ':failures', this.prefix + key + ':blocked');
  }

  private async reject(key: string): Promise<never> {
    tooManyAttempts(Math.max(1, await this.redis.ttl(this.prefix + key)));
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}

function tooManyAttempts(retryAfterSeconds: number): never {
  throw new ApiError(
    HttpStatus.TOO_MANY_REQUESTS,
    'RATE_LIMITED',
    `Too many attempts; try again in ${retryAfterSeconds} seconds`,
    { retryAfterSeconds },
  );
}
