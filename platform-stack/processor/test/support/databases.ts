import { Client } from 'pg';
import { requireEnv, uniqueName } from './environment';

export interface TestPostgresDatabase {
  url: string;
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database per test on the shared test cluster, dropped afterwards. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const adminUrl = requireEnv('FS_TEST_POSTGRES_URL');
  const name = uniqueName('fs_processor').toLowerCase();
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`); // a generated identifier, never message content
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new Client({ connectionString: url.href });
  await client.connect();
  return {
    url: url.href,
    query: async <T extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
      (await client.query<T>(sql, params)).rows,
    drop: async () => {
      await client.end();
      const dropper = new Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

export interface TestInfluxDatabase {
  url: string;
  database: string;
  /** Runs an InfluxQL query and returns the first series' rows as objects. */
  query(influxQl: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export async function createTestInfluxDatabase(): Promise<TestInfluxDatabase> {
  const url = requireEnv('FS_TEST_INFLUX_URL');
  const database = uniqueName('fs_processor');
  const post = async (query: string, db?: string) => {
    const body = new URLSearchParams({ q: query, ...(db ? { db, epoch: 'ms' } : {}) });
    const response = await fetch(`${url}/query`, { method: 'POST', body });
    if (!response.ok)
      throw new Error(`InfluxDB query failed: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as {
      results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[];
    };
  };
  return {
    url,
    database,
    query: async (influxQl) => {
      const result = (await post(influxQl, database)).results[0];
      if (result.error) throw new Error(result.error);
      const series = result.series?.[0];
      if (!series) return [];
      return series.values.map((row) =>
        Object.fromEntries(series.columns.map((column, i) => [column, row[i]])),
      );
    },
    drop: async () => {
      await post(`DROP DATABASE "${database}"`);
    },
  };
}
