import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceUrl, tempDir } from '../../test/test-env';
import { ENTITIES } from '../entities';
import { dataSourceOptions } from './data-source-options';
import { MIGRATIONS } from './migrations/index';

/**
 * The migrations are the only source of the schema (no `synchronize`), so on each engine they
 * must produce exactly what the entities describe: TypeORM's schema diff must be empty.
 */
async function expectMigrationsMatchEntities(dataSource: DataSource): Promise<void> {
  await dataSource.initialize();
  try {
    const applied = (await dataSource.query('SELECT name FROM migrations')) as { name: string }[];
    expect(applied).toHaveLength(MIGRATIONS.length);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    const queries = pending.upQueries.map((query) => query.query);
    expect(queries, `schema differs from entities:\n${queries.join('\n')}`).toEqual([]);
  } finally {
    await dataSource.destroy();
  }
}

describe('database schema', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const database = `fs_schema_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  it('migrations match the entities on SQLite', async () => {
    const path = join(tempDir(), 'fieldstation.sqlite');
    await expectMigrationsMatchEntities(
      new DataSource(dataSourceOptions({ type: 'sqlite', path }, ENTITIES)),
    );
  });

  it('migrations match the entities on PostgreSQL', async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    url.pathname = `/${database}`;
    await expectMigrationsMatchEntities(
      new DataSource(dataSourceOptions({ type: 'postgres', url: url.toString() }, ENTITIES)),
    );
  });
});
