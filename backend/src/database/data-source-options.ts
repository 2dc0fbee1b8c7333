import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { MIGRATIONS } from './migrations/index';

/**
 * The one place that knows both database engines. Entities use portable column types only and
 * the schema comes from migrations, so SQLite (default) and PostgreSQL run the same code.
 * `entities` comes from the composition root (src/entities.ts).
 */
export function dataSourceOptions(
  database: AppConfig['database'],
  entities: DataSourceOptions['entities'],
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (database.type === 'postgres') {
    return { ...common, type: 'postgres', url: database.url };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    // WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    },
  };
}
