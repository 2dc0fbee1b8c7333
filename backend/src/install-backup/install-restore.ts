import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from 'pg';
import type { AppConfig } from '../config/app-config';
import { readInstallArchive, type InstallManifest } from './install-archive';
import {
  InstallBackupError,
  postgresEnvironment,
  runPgTool,
  SERVER_KEY_FILE,
  STACKS_DIR,
} from './install-backup';

export interface RestoreOutcome {
  manifest: InstallManifest;
  /** What the person restoring must know (e.g. everyone signs in again without the server key). */
  notes: string[];
}

/**
 * Brings a fresh install (Fieldstation stopped, an empty database and no stacks) back to the
 * state of a backup. The archive is read into a temp dir first and used only once its
 * authentication tag and every file's SHA-256 passed, so a wrong passphrase or a damaged
 * archive changes nothing.
 */
export async function restoreInstall(
  config: AppConfig,
  archive: Readable,
  passphrase: string,
): Promise<RestoreOutcome> {
  await assertFresh(config);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(config.dataDir, '.restore-'));
  try {
    const manifest = await readInstallArchive(archive, passphrase, work);
    if (manifest.database.type !== config.database.type) {
      throw new InstallBackupError(
        `The backup holds a ${manifest.database.type} database but this install uses ` +
          `${config.database.type} (DATABASE_URL): restore into the same kind`,
      );
    }
    const database = join(work, ...manifest.database.path.split('/'));
    if (config.database.type === 'sqlite') {
      await mkdir(dirname(config.database.path), { recursive: true, mode: 0o700 });
      await rename(database, config.database.path);
    } else {
      const { PGDATABASE } = postgresEnvironment(config.database.url);
      await runPgTool(
        'pg_restore',
        [
          '--no-owner',
          '--no-privileges',
          '--exit-on-error',
          '--single-transaction',
          `--dbname=${PGDATABASE}`,
          database,
        ],
        config.database.url,
      );
    }
    if (existsSync(join(work, STACKS_DIR))) {
      await rename(join(work, STACKS_DIR), join(config.dataDir, STACKS_DIR));
    }
    const notes: string[] = [];
    if (manifest.serverKey) {
      await rename(join(work, SERVER_KEY_FILE), join(config.dataDir, SERVER_KEY_FILE));
      if (config.serverSecret) {
        notes.push(
          'FIELDSTATION_SECRET is set and takes precedence over the restored server key file: ' +
            'unset it to use the backed-up key',
        );
      }
    } else {
      notes.push(
        'The backup holds no server key: everyone signs in again (their credentials open with ' +
          'their passwords as before); backup schedules need their grant created again, and ' +
          'deployments that were running must be retried',
      );
    }
    return { manifest, notes };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function assertFresh(config: AppConfig): Promise<void> {
  const problems: string[] = [];
  if (config.database.type === 'sqlite' && existsSync(config.database.path)) {
    problems.push(`a database exists at ${config.database.path}`);
  }
  if (config.database.type === 'postgres' && (await postgresHasTables(config.database.url))) {
    problems.push('the PostgreSQL database of DATABASE_URL already holds tables');
  }
  const stacks = join(config.dataDir, STACKS_DIR);
  if (existsSync(stacks) && (await readdir(stacks)).length > 0) {
    problems.push(`stacks exist under ${stacks}`);
  }
  if (existsSync(join(config.dataDir, SERVER_KEY_FILE))) {
    problems.push(`a server key exists at ${join(config.dataDir, SERVER_KEY_FILE)}`);
  }
  if (problems.length > 0) {
    throw new InstallBackupError(
      `Restore needs a fresh install (Fieldstation stopped, an empty data dir and database), ` +
        `but ${problems.join('; ')}. Nothing was changed.`,
    );
  }
}

async function postgresHasTables(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    return Number(rows[0]!.count) > 0;
  } finally {
    await client.end();
  }
}
