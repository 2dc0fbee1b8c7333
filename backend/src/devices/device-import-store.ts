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

/** The one download of an import's passwords: when, and the token a retry must bring. */
export interface PasswordsExport {
  at: Date;
  /** The client's token of that download (a retry with it gets the same CSV), or null. */
  downloadToken: string | null;
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
      passwordsExportedAt: hash.passwordsExport
        ? (JSON.parse(hash.passwordsExport) as { at: string }).at
        : null,
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

  /**
   * The names created so far, saved after each batch reached the broker: a job that fails later
   * (revoking, or the worker stopped) still knows whose passwords its export hands out.
   */
  async created(id: string, names: readonly string[]): Promise<void> {
    await this.redis.hset(this.key(id), { created: JSON.stringify(names) });
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

  /**
   * Marks the passwords taken at `at` with the caller's download token: null for the first caller
   * (HSETNX), else the download that took them.
   */
  async claimExport(
    id: string,
    at: Date,
    downloadToken: string | null,
  ): Promise<PasswordsExport | null> {
    const claim = JSON.stringify({ at: at.toISOString(), downloadToken });
    const [[, first], [, stored]] = (await this.redis
      .multi()
      .hsetnx(this.key(id), 'passwordsExport', claim)
      .hget(this.key(id), 'passwordsExport')
      .exec()) as [[null, number], [null, string]];
    if (first === 1) return null;
    const taken = JSON.parse(stored) as { at: string; downloadToken: string | null };
    return { at: new Date(taken.at), downloadToken: taken.downloadToken };
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit();
  }

  private key(id: string): string {
    return `${this.prefix}${id}`;
  }
}
