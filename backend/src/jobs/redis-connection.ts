import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';

/** Error codes and messages of a lost or refused connection (as opposed to a failed command). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECTION_ERROR_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
];

export function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  return CONNECTION_ERROR_MESSAGES.some((text) => message?.includes(text));
}

/** Anything that reports its errors as 'error' events: an ioredis client, a BullMQ Queue or Worker. */
interface ErrorSource {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** How often, during an outage, one probe asks whether Redis answers again. */
const RECOVERY_PROBE_MS = 500;

/**
 * Where BullMQ finds Redis (the configured REDIS_URL or the private server started at boot), and
 * the one place that watches the connection. Every ioredis client and BullMQ Queue/Worker reports
 * its errors here: while Redis is unreachable each of them retries (ioredis reconnects forever),
 * and instead of one line per client per retry the log gets one line when the outage starts and
 * one when Redis answers again.
 */
export class RedisConnection {
  private readonly logger = new Logger('Redis');
  private outageSince: number | undefined;
  private probe: Redis | undefined;
  private closed = false;

  constructor(
    readonly url: string,
    /** Key prefix of every queue, so several installs can share one Redis. */
    readonly prefix: string,
  ) {}

  /** BullMQ needs `maxRetriesPerRequest: null` on blocking connections. */
  options(): { url: string; maxRetriesPerRequest: null } {
    return { url: this.url, maxRetriesPerRequest: null };
  }

  /** A new ioredis client on this Redis whose errors are watched (see `watch`). */
  client(options: RedisOptions = {}): Redis {
    const client = new Redis(this.url, options);
    this.watch(client);
    return client;
  }

  /**
   * Takes over `source`'s 'error' events: a connection error starts (or belongs to) the current
   * outage and is logged once; any other error is logged as it comes.
   */
  watch(source: ErrorSource): void {
    source.on('error', (error) => this.report(error));
  }

  /** True while an outage is under way (after its first connection error, until Redis answers). */
  get unreachable(): boolean {
    return this.outageSince !== undefined;
  }

  report(error: Error): void {
    if (!isConnectionError(error)) {
      this.logger.warn(`Redis error: ${error.message}`);
      return;
    }
    if (this.outageSince !== undefined || this.closed) return;
    this.outageSince = Date.now();
    this.logger.error(
      `Redis at ${this.address()} is unreachable (${error.message}); ` +
        'jobs wait and every connection retries until it answers',
    );
    void this.waitForRecovery();
  }

  /** Pings through one spare client until Redis answers, then ends the outage with one line. */
  private async waitForRecovery(): Promise<void> {
    const probe = new Redis(this.url, { maxRetriesPerRequest: 0 });
    this.probe = probe;
    probe.on('error', () => undefined);
    while (!this.closed) {
      try {
        await probe.ping();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RECOVERY_PROBE_MS));
      }
    }
    probe.disconnect();
    this.probe = undefined;
    if (this.closed || this.outageSince === undefined) return;
    const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
    this.outageSince = undefined;
    this.logger.log(`Redis at ${this.address()} answers again (unreachable for ${seconds} s)`);
  }

  /** Host and port only: the URL may hold a password. */
  private address(): string {
    const url = new URL(this.url);
    return `${url.hostname}:${url.port || '6379'}`;
  }

  close(): void {
    this.closed = true;
    this.probe?.disconnect();
  }
}
