import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPostgresSetup } from '../../src/database/render-database-setup';
import { GRAFANA_DATABASE_ROLE, PROCESSOR_DATABASE_ROLE } from '../../src/spec/stack-spec';
import { PostgresReadingWriter } from '../src/writers/postgres-reading-writer';
import { createTestPostgresDatabase, type TestPostgresDatabase } from './support/databases';

const run = promisify(execFile);

/**
 * The platform's database setup (database/setup.sql, applied by the database-setup service with
 * psql as the superuser) against the real test cluster, then what each role can do. The test
 * cluster trusts local connections, so this checks privileges, not passwords.
 */
describe('the least-privileged database roles', () => {
  let database: TestPostgresDatabase;
  let setupDir: string;
  const urlAs = (role: string) => {
    const url = new URL(database.url);
    url.username = role;
    return url.href;
  };
  const applySetup = async () => {
    const url = new URL(database.url);
    await run('psql', ['--no-psqlrc', `--file=${path.join(setupDir, 'setup.sql')}`], {
      env: {
        PATH: process.env.PATH ?? '',
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: decodeURIComponent(url.username),
        PGDATABASE: url.pathname.slice(1),
        FIELDSTATION_PROCESSOR_DATABASE_PASSWORD: 'processor-password-0123456789',
        FIELDSTATION_GRAFANA_DATABASE_PASSWORD: 'grafana-password-0123456789',
      },
    });
  };
  const asRole = async <T>(role: string, use: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: urlAs(role) });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  };
  /** The SQLSTATE a statement fails with as `role`, or 'ok'. */
  const attempt = (role: string, sql: string) =>
    asRole(role, async (client) => {
      try {
        await client.query(sql);
        return 'ok';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    });

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    setupDir = mkdtempSync(path.join(tmpdir(), 'fs-db-setup-'));
    writeFileSync(path.join(setupDir, 'setup.sql'), renderPostgresSetup());
    await database.query('CREATE TABLE other_data (secret text)');
    await database.query("INSERT INTO other_data VALUES ('not for the processor')");
    await applySetup();
    await applySetup(); // every `compose up` applies it again
  });

  afterAll(async () => {
    await database?.drop();
    const admin = new Client({ connectionString: process.env.FS_TEST_POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${PROCESSOR_DATABASE_ROLE}, ${GRAFANA_DATABASE_ROLE}`);
    } finally {
      await admin.end();
    }
    if (setupDir) rmSync(setupDir, { recursive: true, force: true });
  });

  it('lets the processor write readings with its COPY and nothing else', async () => {
    const writer = new PostgresReadingWriter(urlAs(PROCESSOR_DATABASE_ROLE));
    try {
      await writer.prepare();
      await writer.write([{ measurement: 'room', device: 'pi1', time: 1000, data: { t: 21 } }]);
    } finally {
      await writer.close();
    }
    expect(await database.query('SELECT device FROM readings')).toEqual([{ device: 'pi1' }]);

    const denied = '42501'; // insufficient_privilege
    const attempts = {
      'read readings': 'SELECT * FROM readings',
      'read another table': 'SELECT * FROM other_data',
      'delete readings': 'DELETE FROM readings',
      'update readings': "UPDATE readings SET device = 'x'",
      'truncate readings': 'TRUNCATE readings',
      'drop readings': 'DROP TABLE readings',
      'drop another table': 'DROP TABLE other_data',
      'create a table': 'CREATE TABLE mine (x int)',
      'create a temporary table': 'CREATE TEMPORARY TABLE mine (x int)',
      'become superuser': `ALTER ROLE ${PROCESSOR_DATABASE_ROLE} SUPERUSER`,
      'create a role': 'CREATE ROLE intruder',
    };
    const results: Record<string, string> = {};
    for (const [what, sql] of Object.entries(attempts)) {
      results[what] = await attempt(PROCESSOR_DATABASE_ROLE, sql);
    }
    expect(results).toEqual(Object.fromEntries(Object.keys(attempts).map((k) => [k, denied])));
    expect(await database.query('SELECT count(*)::int AS n FROM readings')).toEqual([{ n: 1 }]);
  });

  it('lets Grafana read readings and nothing else', async () => {
    const rows = await asRole(
      GRAFANA_DATABASE_ROLE,
      async (client) => (await client.query('SELECT device FROM readings')).rows,
    );
    expect(rows.length).toBeGreaterThan(0);
    const attempts = {
      'insert readings': "INSERT INTO readings VALUES (now(), 'm', 'd', '{}')",
      'delete readings': 'DELETE FROM readings',
      'read another table': 'SELECT * FROM other_data',
      'drop readings': 'DROP TABLE readings',
      'create a table': 'CREATE TABLE mine (x int)',
    };
    const results: Record<string, string> = {};
    for (const [what, sql] of Object.entries(attempts)) {
      results[what] = await attempt(GRAFANA_DATABASE_ROLE, sql);
    }
    expect(results).toEqual(Object.fromEntries(Object.keys(attempts).map((k) => [k, '42501'])));
  });
});
