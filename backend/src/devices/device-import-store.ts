import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RequestOrigin } from '../common/request-origin';
import { RedisConnection } from '../jobs/redis-connection';
import type { ImportRow } from './device-csv';

/** How long an import's state (progress, names, whether its passwords were taken) is kept. */
const KEEP_SECONDS = 7 * 24 * 3600;

/** An import as the API and the job see it; names only, never a password. */
export interface DeviceImportState {
  userId: string;
  platformId: string;
  revokeMissing: boolean;
  origin: RequestOrigin;
  /** Rows in the CSV. */
  rows: number;
  /** Broker changes to make (devices to create + to revoke), known once the job started. */
  total: number;
  done: number;
  created: string[];
  skipped: string[];
  revoked: string[];
  /** When the passwords were downloaded (once), else null. */
  passwordsExportedAt: string | null;
}

/**
 * An import's state in Redis, shared by the API (status, export) and the worker (progress):
 * `<prefix>:device-import:<id>` (a hash) and, until the job took them, its rows
 * (`…:rows`). Rows are names and labels: no secret. The new passwords never come here; they are
 * sealed in the device records from the moment they exist.
 */
@Injectable()
export class DeviceImportStore implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(connection: RedisConnection) {
    this.redis = connection.client({ maxRetriesPerRequest: 2 });
    this.prefix = `${connection.prefix}:device-import:`;
  }

  async create(
    id: string,
    state: Pick<DeviceImportState, 'userId' | 'platformId' | 'revokeMissing' | 'origin'>,
    rows: ImportRow[],
  ): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(id), {
        userId: state.userId,
        platformId: state.platformId,
        revokeMissing: state.revokeMissing ? '1' : '0',
        origin: JSON.stringify(state.origin),
        rows: String(rows.length),
        total: '0',
        done: '0',
        created: '[]',
        skipped: '[]',
        revoked: '[]',
      })
      .expire(this.key(id), KEEP_SECONDS)
      .set(`${this.key(id)}:rows`, JSON.stringify(rows), 'EX', KEEP_SECONDS)
      .exec();
  }

  async get(id: string): Promise<DeviceImportState | null> {
    const hash = await this.redis.hgetall(this.key(id));
    if (!hash.userId) return null;
    return {
      userId: hash.userId,
      platformId: hash.platformId!,
      revokeMissing: hash.revokeMissing === '1',
      origin: JSON.parse(hash.origin!) as RequestOrigin,
      rows: Number(hash.rows),
      total: Number(hash.total),
      done: Number(hash.done),
      created: JSON.parse(hash.created!) as string[],
      skipped: JSON.parse(hash.skipped!) as string[],
      revoked: JSON.parse(hash.revoked!) as string[],
      passwordsExportedAt: hash.passwordsExportedAt ?? null,
    };
  }

  async rows(id: string): Promise<ImportRow[]> {
    const text = await this.redis.get(`${this.key(id)}:rows`);
    if (text === null) throw new Error('The rows of this import are gone (expired)');
    return JSON.parse(text) as ImportRow[];
  }

  async progress(id: string, done: number, total: number): Promise<void> {
    await this.redis.hset(this.key(id), { done: String(done), total: String(total) });
  }

  async finish(id: string, outcome: Pick<DeviceImportState, 'created' | 'skipped' | 'revoked'>) {
    await this.redis
      .multi()
      .hset(this.key(id), {
        created: JSON.stringify(outcome.created),
        skipped: JSON.stringify(outcome.skipped),
        revoked: JSON.stringify(outcome.revoked),
      })
      .del(`${this.key(id)}:rows`)
      .exec();
  }

  /** Marks the passwords taken; true only for the first caller (HSETNX). */
  async claimExport(id: string): Promise<boolean> {
    return (
      (await this.redis.hsetnx(this.key(id), 'passwordsExportedAt', new Date().toISOString())) === 1
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit();
  }

  private key(id: string): string {
    return `${this.prefix}${id}`;
  }
}
