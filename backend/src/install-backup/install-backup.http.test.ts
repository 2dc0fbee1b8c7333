import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, sshHostCredential } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freePort, tempDir } from '../../test/test-env';
import { s3CredentialBody, testS3, testS3Client } from '../../test/test-s3';
import { loadConfig } from '../config/app-config';
import type { Readable } from 'node:stream';
import { backupObjectKey } from './backup-location';
import { backupInstall } from './install-backup';
import { restoreInstall } from './install-restore';

const PASSPHRASE = 'a long backup passphrase';
type Listed = Record<string, unknown>[];

/**
 * Fieldstation's own backup (issue 16 item 6) through the real service layer and the real API:
 * an install with a user, credentials (one sealed s3 credential) and a platform is backed up,
 * restored into an empty data dir, and a new API on it answers the same data; the s3
 * credential's test only passes when its sealed access key still decrypts.
 */
describe('install backup and restore (running API, SQLite, s3rver)', { timeout: 120_000 }, () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  // The API role: the records are what matters here, not running their jobs.
  const start = async (dataDir: string) => {
    const started = await startTestApp({ dataDir, role: 'api' });
    apps.push(started.app);
    return started;
  };

  async function populatedInstall() {
    const { app, baseUrl, dataDir } = await start(tempDir());
    const api = new ApiClient(baseUrl);
    const account = await api.signUp('backed-up');
    const s3 = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('offsite', `install-backup-${randomUUID()}/`),
    );
    expect(s3.status).toBe(201);
    const sshId = await sshHostCredential(api, await freePort());
    const launch = await api.post('/platforms', {
      name: 'kept-platform',
      target: 'ssh-host',
      credentialId: sshId,
      tls: false,
    });
    expect(launch.status).toBe(202);
    // A stack's working dir as infra/ leaves it: state kept, provider plugins not.
    const stack = join(dataDir, 'stacks', account.userId, 'space', randomUUID());
    mkdirSync(join(stack, '.terraform', 'providers'), { recursive: true });
    writeFileSync(join(stack, 'terraform.tfstate'), '{"version":4,"serial":7}');
    writeFileSync(join(stack, '.terraform', 'providers', 'plugin'), 'big binary');
    const before = {
      credentials: (await api.get<Listed>('/credentials')).body,
      platforms: (await api.get<Listed>('/platforms')).body,
    };
    expect(before.platforms).toHaveLength(1);
    // Stopped before the backup, like the restore's target: the test compares settled data.
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    return { dataDir, api, account, s3Id: s3.body.id, stack, before };
  }

  it('restores a file backup with the server key: same data, same sessions, secrets open', async () => {
    const source = await populatedInstall();
    const file = join(tempDir(), 'install.fsbackup');
    const manifest = await backupInstall(
      loadConfig({ DATA_DIR: source.dataDir }),
      { type: 'file', path: file },
      { passphrase: PASSPHRASE, includeServerKey: true },
    );
    expect(manifest.serverKey).toBe(true);
    expect(manifest.files.map((entry) => entry.path)).toEqual([
      'database/fieldstation.sqlite',
      expect.stringMatching(/^stacks\/.*\/terraform\.tfstate$/),
      'server.key',
    ]);
    // Encrypted: neither the server key nor a user's email appears in the file.
    const archive = readFileSync(file);
    expect(archive.includes(readFileSync(join(source.dataDir, 'server.key')))).toBe(false);
    expect(archive.includes(Buffer.from(source.account.email))).toBe(false);

    const target = tempDir();
    // A wrong passphrase changes nothing.
    await expect(
      restoreInstall(
        loadConfig({ DATA_DIR: target }),
        createReadStream(file),
        'not the passphrase',
      ),
    ).rejects.toThrow(/does not open with this passphrase/);
    expect(existsSync(join(target, 'fieldstation.sqlite'))).toBe(false);

    const restored = await restoreInstall(
      loadConfig({ DATA_DIR: target }),
      createReadStream(file),
      PASSPHRASE,
    );
    expect(restored.notes).toEqual([]);
    const stackFile = join(target, source.stack.slice(source.dataDir.length), 'terraform.tfstate');
    expect(readFileSync(stackFile, 'utf8')).toBe('{"version":4,"serial":7}');
    expect(existsSync(join(target, source.stack.slice(source.dataDir.length), '.terraform'))).toBe(
      false,
    );

    const { baseUrl } = await start(target);
    // The same access token still works: the server key came back with the data.
    const api = new ApiClient(baseUrl);
    api.accessToken = source.api.accessToken;
    expect((await api.get<Listed>('/credentials')).body).toEqual(source.before.credentials);
    expect((await api.get<Listed>('/platforms')).body).toEqual(source.before.platforms);
    const test = await api.post<{ ok: boolean }>(`/credentials/${source.s3Id}/test`);
    expect(test.body).toMatchObject({ ok: true });

    // A second restore over it is refused: it is no longer a fresh install.
    await expect(
      restoreInstall(loadConfig({ DATA_DIR: target }), createReadStream(file), PASSPHRASE),
    ).rejects.toThrow(/needs a fresh install.*a database exists/);
  });

  it('restores a bucket backup without the server key: sign in again, secrets still open', async () => {
    const source = await populatedInstall();
    const s3 = testS3();
    const client = testS3Client();
    const key = backupObjectKey(`install-backups-${randomUUID()}`, new Date());
    await backupInstall(
      loadConfig({ DATA_DIR: source.dataDir }),
      { type: 's3', client, bucket: s3.bucket, key },
      { passphrase: PASSPHRASE, includeServerKey: false },
    );
    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));

    const target = tempDir();
    const restored = await restoreInstall(
      loadConfig({ DATA_DIR: target }),
      object.Body as Readable,
      PASSPHRASE,
    );
    expect(restored.manifest.serverKey).toBe(false);
    expect(restored.notes[0]).toMatch(/everyone signs in again/);

    const { baseUrl } = await start(target);
    const stale = new ApiClient(baseUrl);
    stale.accessToken = source.api.accessToken;
    expect((await stale.get('/credentials')).status).toBe(401);
    const api = new ApiClient(baseUrl);
    expect((await api.login(source.account.email, source.account.password)).status).toBe(200);
    expect((await api.get<Listed>('/credentials')).body).toEqual(source.before.credentials);
    expect((await api.get<Listed>('/platforms')).body).toEqual(source.before.platforms);
    const test = await api.post<{ ok: boolean }>(`/credentials/${source.s3Id}/test`);
    expect(test.body).toMatchObject({ ok: true });
  });

  it('refuses --include-server-key when the key comes from FIELDSTATION_SECRET', async () => {
    await expect(
      backupInstall(
        loadConfig({ DATA_DIR: tempDir(), FIELDSTATION_SECRET: 'x'.repeat(40) }),
        { type: 'file', path: join(tempDir(), 'never.fsbackup') },
        { passphrase: PASSPHRASE, includeServerKey: true },
      ),
    ).rejects.toThrow(/comes from FIELDSTATION_SECRET/);
  });
});
