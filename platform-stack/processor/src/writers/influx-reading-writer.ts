import type { Reading } from '../contract/reading';
import { toLineProtocol } from './line-protocol';
import { RejectedByDatabaseError, type ReadingWriter } from './reading-writer';

export interface InfluxWriterOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}

/** InfluxDB 1.x over its HTTP API: one line-protocol POST per batch, millisecond precision. */
export class InfluxReadingWriter implements ReadingWriter {
  readonly kind = 'influxdb';
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: InfluxWriterOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    // Basic auth in a header keeps the password out of URLs, which end up in logs.
    this.headers = options.username
      ? {
          authorization: `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`,
        }
      : {};
  }

  /**
   * Creates the database where the user may (a server without the platform's setup: tests, a bare
   * server). On a platform the processor's user holds WRITE only and InfluxDB answers 403: the
   * database-setup service created the database, and a write would say if it were missing.
   */
  async prepare(): Promise<void> {
    const body = new URLSearchParams({
      q: `CREATE DATABASE "${this.options.database.replace(/["\\]/g, '\\$&')}"`,
    });
    const response = await this.request('/query', body, 'application/x-www-form-urlencoded');
    if (response.status === 403) {
      await response.body?.cancel();
      return;
    }
    if (!response.ok)
      throw new Error(
        `InfluxDB refused CREATE DATABASE: HTTP ${response.status} ${await response.text()}`,
      );
  }

  async write(readings: Reading[]): Promise<void> {
    const lines = readings.map(toLineProtocol).filter((line): line is string => line !== undefined);
    if (lines.length === 0) return;
    const query = new URLSearchParams({ db: this.options.database, precision: 'ms' });
    const response = await this.request(
      `/write?${query.toString()}`,
      lines.join('\n'),
      'text/plain',
    );
    if (response.status === 204) return;
    const text = await response.text();
    if (response.status === 404 && text.includes('database not found')) {
      await this.prepare();
      throw new Error('InfluxDB database was missing and has been created; retrying');
    }
    if (response.status === 400)
      throw new RejectedByDatabaseError(`InfluxDB rejected the points: ${text.trim()}`);
    throw new Error(`InfluxDB write failed: HTTP ${response.status} ${text.trim()}`);
  }

  async close(): Promise<void> {}

  private request(
    pathAndQuery: string,
    body: string | URLSearchParams,
    contentType: string,
  ): Promise<Response> {
    return fetch(`${this.baseUrl}${pathAndQuery}`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': contentType },
      body,
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
    });
  }
}
