import { Pool, type DatabaseError } from 'pg';
import type { Reading } from '../contract/reading';
import { RejectedByDatabaseError, type ReadingWriter } from './reading-writer';

/**
 * PostgreSQL / TimescaleDB: `readings(time timestamptz, measurement text, device text, data jsonb)`,
 * a hypertable when the timescaledb extension is available. One statement per batch with the rows
 * as a single JSON parameter, so no SQL text ever depends on message content.
 */
export class PostgresReadingWriter implements ReadingWriter {
  readonly kind = 'postgres';
  private readonly pool: Pool;

  constructor(url: string) {
    this.pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async prepare(): Promise<void> {
    const client = await this.pool.connect();
    try {
      const available = await client.query(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'",
      );
      if (available.rowCount) await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      await client.query(`CREATE TABLE IF NOT EXISTS readings (
        time timestamptz NOT NULL,
        measurement text NOT NULL,
        device text NOT NULL,
        data jsonb NOT NULL
      )`);
      if (available.rowCount) {
        await client.query("SELECT create_hypertable('readings', 'time', if_not_exists => TRUE)");
      }
      await client.query(
        'CREATE INDEX IF NOT EXISTS readings_measurement_device_time ON readings (measurement, device, time DESC)',
      );
    } finally {
      client.release();
    }
  }

  async write(readings: Reading[]): Promise<void> {
    if (readings.length === 0) return;
    // One JSON parameter for the whole batch: cheaper to encode than per-column arrays, and the
    // statement text never changes.
    const batch = JSON.stringify(
      readings.map((reading) => [reading.time, reading.measurement, reading.device, reading.data]),
    );
    try {
      await this.pool.query(
        `INSERT INTO readings (time, measurement, device, data)
         SELECT to_timestamp((row->>0)::float8 / 1000), row->>1, row->>2, row->3
         FROM jsonb_array_elements($1::jsonb) AS row`,
        [batch],
      );
    } catch (error) {
      throw classifyPostgresError(error);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation) reject the data itself. */
function classifyPostgresError(error: unknown): unknown {
  const code = (error as Partial<DatabaseError>).code;
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) {
    return new RejectedByDatabaseError(
      `PostgreSQL rejected the rows (${code}): ${(error as Error).message}`,
    );
  }
  return error;
}
