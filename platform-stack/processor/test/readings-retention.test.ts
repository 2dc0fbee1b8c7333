import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPostgresSetup } from '../../src/database/render-database-setup';
import {
  checkRetentionDays,
  influxRetentionStatement,
  readingsRetentionCommand,
} from '../../src/database/readings-retention';
import { PROCESSOR_DATABASE_ROLE } from '../../src/spec/stack-spec';
import { pruneExpiredReadings } from '../src/writers/postgres-retention';
import { createTestVhost, type TestVhost } from './support/broker';
import {
  createTestInfluxDatabase,
  createTestPostgresDatabase,
  type TestInfluxDatabase,
  type TestPostgresDatabase,
} from './support/databases';
import { ProcessorProcess } from './support/processor-process';
import { waitFor } from './support/wait';

const DAY_MS = 24 * 60 * 60_000;

/** psql with `argv` (as the platform runs it in the database container) against a test database. */
function runPsql(url: string, argv: string[], stdin: string): Promise<string> {
  const target = new URL(url);
  const args = argv
    .slice(1)
    .filter((arg) => !arg.startsWith('--dbname=') && !arg.startsWith('--username='));
  return new Promise((resolve, reject) => {
    const child = execFile(
      'psql',
      [...args, `--dbname=${target.pathname.slice(1)}`],
      {
        env: {
          PATH: process.env.PATH ?? '',
          PGHOST: target.hostname,
          PGPORT: target.port,
          PGUSER: decodeURIComponent(target.username),
        },
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(stderr || error.message)) : resolve(stdout),
    );
    child.stdin?.end(stdin);
  });
}

describe('readings retention on plain PostgreSQL (the processor deletes in batches)', () => {
  let database: TestPostgresDatabase;
  let vhost: TestVhost;
  let processor: ProcessorProcess;
  let setupDir: string;

  const insertAged = async (device: string, ageDays: number) =>
    database.query(
      "INSERT INTO readings (time, measurement, device, data) VALUES (now() - $1::float8 * interval '1 day', 'room', $2, '{}')",
      [ageDays, device],
    );
  const devices = async () =>
    (await database.query<{ device: string }>('SELECT device FROM readings ORDER BY device')).map(
      (row) => row.device,
    );
  const setRetention = (days: number | null) => {
    const { argv, stdin } = readingsRetentionCommand('postgres', days);
    return runPsql(database.url, argv, stdin);
  };

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    setupDir = mkdtempSync(path.join(tmpdir(), 'fs-retention-'));
    writeFileSync(path.join(setupDir, 'setup.sql'), renderPostgresSetup());
    const url = new URL(database.url);
    await new Promise<void>((resolve, reject) =>
      execFile(
        'psql',
        ['--no-psqlrc', `--file=${path.join(setupDir, 'setup.sql')}`],
        {
          env: {
            PATH: process.env.PATH ?? '',
            PGHOST: url.hostname,
            PGPORT: url.port,
            PGUSER: decodeURIComponent(url.username),
            PGDATABASE: url.pathname.slice(1),
            FIELDSTATION_PROCESSOR_DATABASE_PASSWORD: 'processor-password-0123456789',
            FIELDSTATION_GRAFANA_DATABASE_PASSWORD: 'grafana-password-0123456789',
          },
        },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    vhost = await createTestVhost();
  });

  afterAll(async () => {
    await processor?.stop();
    await vhost?.delete();
    await database?.drop();
    if (setupDir) rmSync(setupDir, { recursive: true, force: true });
  });

  it('deletes what is older than the kept days on the processor schedule, keeps the rest, follows a change, and keeps all with none', async () => {
    await insertAged('a-10-days', 10);
    await insertAged('b-3-days', 3);
    await insertAged('c-1-hour', 1 / 24);
    await setRetention(5);

    // The processor connects as its own role, which may EXECUTE the prune function but not DELETE.
    const asProcessor = new URL(database.url);
    asProcessor.username = PROCESSOR_DATABASE_ROLE;
    await expect(pruneDirectly(asProcessor.href)).rejects.toThrow(/permission denied/);
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      DATABASE_KIND: 'postgres',
      POSTGRES_URL: asProcessor.href,
      RETENTION_PRUNE_INTERVAL_MS: '1000',
    });
    await waitFor('the 10-day-old reading to go', async () =>
      (await devices()).length === 2 ? true : undefined,
    );
    expect(await devices()).toEqual(['b-3-days', 'c-1-hour']);

    // Changed after launch: now 2 days.
    await setRetention(2);
    await waitFor('the 3-day-old reading to go', async () =>
      (await devices()).length === 1 ? true : undefined,
    );
    expect(await devices()).toEqual(['c-1-hour']);
    expect(processor.logLines.join('\n')).toContain('deleted readings past their retention');

    // None (keep for ever): old readings stay.
    await setRetention(null);
    await insertAged('d-400-days', 400);
    expect(await pruneExpiredReadings(asProcessor.href, 100)).toBe(0);
    expect(await devices()).toEqual(['c-1-hour', 'd-400-days']);
  });

  it('deletes in batches until none is left past the retention', async () => {
    await setRetention(30);
    await database.query(
      "INSERT INTO readings (time, measurement, device, data) SELECT now() - interval '40 days', 'bulk', 'old-' || n, '{}' FROM generate_series(1, 2500) AS n",
    );
    const asProcessor = new URL(database.url);
    asProcessor.username = PROCESSOR_DATABASE_ROLE;
    expect(await pruneExpiredReadings(asProcessor.href, 1000)).toBe(2500 + 1); // + d-400-days
    expect(await devices()).toEqual(['c-1-hour']);
  });

  async function pruneDirectly(url: string): Promise<void> {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('DELETE FROM readings');
    } finally {
      await client.end();
    }
  }
});

describe('readings retention on InfluxDB (its retention policy)', () => {
  let influx: TestInfluxDatabase;

  beforeAll(async () => {
    influx = await createTestInfluxDatabase();
    await influx.query(`CREATE DATABASE "${influx.database}"`);
  });

  afterAll(async () => {
    await influx?.drop();
  });

  const write = async (lines: string) => {
    const response = await fetch(`${influx.url}/write?db=${influx.database}&precision=ms`, {
      method: 'POST',
      body: lines,
    });
    return { status: response.status, body: await response.text() };
  };

  it('sets the default policy to the kept days, refuses readings older than that, keeps newer ones, and goes back to infinite', async () => {
    await influx.query(influxRetentionStatement(5, influx.database));
    const policy = (await influx.query(`SHOW RETENTION POLICIES ON "${influx.database}"`)).find(
      (row) => row.name === 'autogen',
    );
    expect(policy).toMatchObject({
      duration: '120h0m0s',
      shardGroupDuration: '24h0m0s',
      default: true,
    });

    const now = Date.now();
    const old = await write(`room,device=old value=1 ${now - 10 * DAY_MS}`);
    expect(old.body).toMatch(/points beyond retention policy/);
    expect((await write(`room,device=new value=2 ${now - DAY_MS}`)).status).toBe(204);
    const rows = await influx.query('SELECT value, device FROM room');
    expect(rows.map((row) => row.device)).toEqual(['new']);

    await influx.query(influxRetentionStatement(1, influx.database));
    expect(
      (await influx.query(`SHOW RETENTION POLICIES ON "${influx.database}"`)).find(
        (row) => row.name === 'autogen',
      ),
    ).toMatchObject({ duration: '24h0m0s', shardGroupDuration: '1h0m0s' });

    await influx.query(influxRetentionStatement(null, influx.database));
    expect(
      (await influx.query(`SHOW RETENTION POLICIES ON "${influx.database}"`)).find(
        (row) => row.name === 'autogen',
      ),
    ).toMatchObject({ duration: '0s' });
    expect((await write(`room,device=ancient value=3 ${now - 400 * DAY_MS}`)).status).toBe(204);
  });
});

describe('retention days are checked before anything is rendered', () => {
  it.each([0, 3651, 1.5, -1, '30', '5; DROP TABLE readings', NaN, Infinity, undefined, {}])(
    'refuses %s',
    (days) => {
      expect(() => checkRetentionDays(days)).toThrow(/whole number of days from 1 to 3650/);
      expect(() => readingsRetentionCommand('postgres', days as number)).toThrow();
      expect(() => influxRetentionStatement(days as number)).toThrow();
    },
  );

  it('passes the number to psql as a variable, never inside the SQL text', () => {
    const { argv, stdin } = readingsRetentionCommand('timescaledb', 30);
    expect(argv).toContain('--set=days=30');
    expect(stdin).not.toContain('30');
    expect(stdin).toContain(
      "add_retention_policy('readings', make_interval(days => NULLIF(:'days', '')::integer))",
    );
    expect(readingsRetentionCommand('mongodb', 2).stdin).toContain('expireAfterSeconds: 172800');
    expect(readingsRetentionCommand('mongodb', null).stdin).toContain('expireAfterSeconds: "off"');
  });
});
