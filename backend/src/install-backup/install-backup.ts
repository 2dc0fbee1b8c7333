import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AppConfig } from '../config/app-config';
import { writeInstallArchive, type ArchiveFile, type InstallManifest } from './install-archive';

export const SERVER_KEY_FILE = 'server.key';
export const STACKS_DIR = 'stacks';

export class InstallBackupError extends Error {}

/** Where a backup goes: a file on this machine, or an object in an S3-compatible bucket. */
export type BackupDestination =
  { type: 'file'; path: string } | { type: 's3'; client: S3Client; bucket: string; key: string };

/**
 * Writes one encrypted archive of this install: a consistent copy of the database (SQLite's
 * online backup, or `pg_dump` of PostgreSQL — which also holds the `pg`-backend stack states),
 * every stack's Terraform files from the data dir (state, its backup, the synthesized stack and
 * lock file; provider plugins are downloaded again by `init`), and, only when asked, the server
 * key file. The platforms' pinned host keys are columns of the platforms table, so the database
 * copy carries them. Plaintext copies stay in a 0700 temp dir under the data dir, deleted in
 * `finally`.
 */
export async function backupInstall(
  config: AppConfig,
  destination: BackupDestination,
  options: { passphrase: string; includeServerKey: boolean; now?: Date },
): Promise<InstallManifest> {
  if (options.includeServerKey && config.serverSecret) {
    throw new InstallBackupError(
      'The server key comes from FIELDSTATION_SECRET, not from a file: keep that value safe ' +
        'yourself and leave out --include-server-key',
    );
  }
  const serverKeyFile = join(config.dataDir, SERVER_KEY_FILE);
  if (options.includeServerKey && !existsSync(serverKeyFile)) {
    throw new InstallBackupError(`No server key file at ${serverKeyFile}`);
  }
  const work = await mkdtemp(join(config.dataDir, '.backup-'));
  try {
    const files: ArchiveFile[] = [];
    const databaseFile =
      config.database.type === 'sqlite'
        ? await snapshotSqlite(config.database.path, join(work, 'fieldstation.sqlite'))
        : await dumpPostgres(config.database.url, join(work, 'fieldstation.pgdump'));
    const databasePath =
      config.database.type === 'sqlite'
        ? 'database/fieldstation.sqlite'
        : 'database/fieldstation.pgdump';
    files.push({ path: databasePath, source: databaseFile });
    files.push(...(await stackFiles(config.dataDir)));
    if (options.includeServerKey) files.push({ path: SERVER_KEY_FILE, source: serverKeyFile });

    const manifest = {
      format: 'fieldstation-install-backup/1' as const,
      createdAt: (options.now ?? new Date()).toISOString(),
      database: { type: config.database.type, path: databasePath },
      serverKey: options.includeServerKey,
    };
    return await writeTo(destination, (output) =>
      writeInstallArchive(output, files, manifest, options.passphrase),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeTo(
  destination: BackupDestination,
  write: (output: Writable) => Promise<InstallManifest>,
): Promise<InstallManifest> {
  if (destination.type === 'file') {
    // 'wx': never overwrite an existing file (an older backup someone may need).
    const output = createWriteStream(destination.path, { flags: 'wx', mode: 0o600 });
    const opened = new Promise<void>((resolve, reject) => {
      output.once('open', () => resolve());
      output.once('error', reject);
    });
    await opened;
    try {
      return await write(output);
    } catch (error) {
      output.destroy();
      await rm(destination.path, { force: true });
      throw error;
    }
  }
  const body = new PassThrough();
  const upload = new Upload({
    client: destination.client,
    params: { Bucket: destination.bucket, Key: destination.key, Body: body },
  });
  const uploaded = upload.done();
  try {
    const [manifest] = await Promise.all([write(body), uploaded]);
    return manifest;
  } catch (error) {
    body.destroy();
    await upload.abort().catch(() => undefined);
    await uploaded.catch(() => undefined);
    throw error;
  }
}

/** SQLite's online backup API: a consistent copy while the server keeps writing. */
async function snapshotSqlite(path: string, target: string): Promise<string> {
  if (!existsSync(path)) throw new InstallBackupError(`No database at ${path}`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    await db.backup(target);
  } finally {
    db.close();
  }
  return target;
}

/** `pg_dump` in custom format; the connection reaches it through PG* variables, not argv. */
async function dumpPostgres(url: string, target: string): Promise<string> {
  await runPgTool(
    'pg_dump',
    ['--format=custom', '--no-owner', '--no-privileges', `--file=${target}`],
    url,
  );
  return target;
}

/** Runs pg_dump/pg_restore against `url` (password in PGPASSWORD, never in the argument list). */
export function runPgTool(tool: string, args: string[], url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      env: { ...process.env, ...postgresEnvironment(url) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.once('error', (error) =>
      reject(new InstallBackupError(`${tool} could not run: ${error.message}`)),
    );
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new InstallBackupError(`${tool} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

export function postgresEnvironment(url: string): Record<string, string> {
  const parsed = new URL(url);
  const env: Record<string, string> = {
    PGHOST: decodeURIComponent(parsed.hostname),
    PGPORT: parsed.port || '5432',
    PGDATABASE: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
  };
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const sslMode = parsed.searchParams.get('sslmode');
  if (sslMode) env.PGSSLMODE = sslMode;
  return env;
}

/** Every file of every stack's working dir except `.terraform/` (provider plugins, re-fetched). */
async function stackFiles(dataDir: string): Promise<ArchiveFile[]> {
  const root = join(dataDir, STACKS_DIR);
  if (!existsSync(root)) return [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !relative(root, file).split(sep).includes('.terraform'))
    .sort()
    .map((file) => ({
      path: [STACKS_DIR, ...relative(root, file).split(sep)].join('/'),
      source: file,
    }));
}
