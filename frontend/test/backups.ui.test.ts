import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessibilityAudit } from './accessibility';
import {
  freePort,
  launchChromium,
  removeLeftoverStack,
  screenshot,
  startBuiltApp,
  testHostEnv,
  watchConsole,
} from './ui-harness';

const MINUTE = 60_000;
const PASSWORD = 'a perfectly long passphrase';

/** The test's own API session, for the setup other UI tests already cover (host, launch). */
async function apiSession(baseUrl: string, email: string) {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

function s3Env() {
  const names = ['ENDPOINT', 'REGION', 'BUCKET', 'ACCESS_KEY', 'SECRET_KEY'] as const;
  const values = Object.fromEntries(names.map((name) => [name, process.env[`FS_TEST_S3_${name}`]]));
  for (const name of names) {
    if (!values[name]) throw new Error(`FS_TEST_S3_${name} is not set: start the test services`);
  }
  return values as Record<(typeof names)[number], string>;
}

/** Runs SQL in the platform's database container on the test dockerd; answers its output. */
function psql(platformId: string, sql: string): string {
  const env = { ...process.env, DOCKER_HOST: process.env.FS_TEST_DOCKER_HOST };
  const container = execFileSync(
    'docker',
    [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=fieldstation-${platformId}`,
      '--filter',
      'label=com.docker.compose.service=database',
    ],
    { env, encoding: 'utf8' },
  ).trim();
  return execFileSync(
    'docker',
    [
      'exec',
      container,
      'psql',
      '--username=postgres',
      '--dbname=telemetry',
      '--tuples-only',
      '--no-align',
      '--command',
      sql,
    ],
    { env, encoding: 'utf8' },
  ).trim();
}

describe('backups to S3-compatible storage, in a real browser', () => {
  let app: Awaited<ReturnType<typeof startBuiltApp>>;
  let browser: Browser;
  let page: Page;
  let consoleProblems: string[];
  let leftover: string | undefined;
  const audit = new AccessibilityAudit('backups');

  beforeAll(async () => {
    app = await startBuiltApp(testHostEnv(), 'backups-app');
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    consoleProblems = watchConsole(page);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (leftover) removeLeftoverStack(leftover);
  });

  async function addS3Credential(name: string, bucket: string, prefix: string): Promise<void> {
    const s3 = s3Env();
    await page.getByRole('button', { name: 'Add credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Type').click();
    await page.getByRole('option', { name: 'Object storage (S3)' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill(name);
    await dialog.getByLabel('Endpoint URL').fill(s3.ENDPOINT);
    await dialog.getByLabel('Region').fill(s3.REGION);
    await dialog.getByLabel('Bucket', { exact: true }).fill(bucket);
    await dialog.getByLabel('Key prefix').fill(prefix);
    await dialog.getByLabel('Access key', { exact: true }).fill(s3.ACCESS_KEY);
    await dialog.getByLabel('Secret key', { exact: true }).fill(s3.SECRET_KEY);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByTestId('credential-saved').waitFor();
  }

  it(
    'adds and tests an s3 credential, schedules backups, runs one now, sees its size and checksum, and restores it',
    async () => {
      const email = `backups-${Date.now()}@example.org`;
      await page.goto(`${app.baseUrl}/register`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Username').fill('hedy');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/platforms$/);

      // The launch runs while the storage is set up in the browser.
      const call = await apiSession(app.baseUrl, email);
      const host = await call<{ id: string }>('POST', '/credentials', {
        type: 'ssh-host',
        name: 'test-host',
        host: process.env.FS_TEST_SSH_HOST,
        port: Number(process.env.FS_TEST_SSH_PORT),
        username: process.env.FS_TEST_SSH_USER,
        auth: 'uploaded-key',
        privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
      });
      const launched = await call<{ platform: { id: string } }>('POST', '/platforms', {
        name: 'vault',
        target: 'ssh-host',
        credentialId: host.id,
        database: 'postgres',
        tls: false,
        deviceUsers: ['sensor-1'],
        ports: {
          mqtt: await freePort(),
          amqp: await freePort(),
          grafana: null,
          rabbitmqManagement: null,
        },
      });
      const platformId = launched.platform.id;
      leftover = platformId;

      // A bucket that does not exist: Test connection names the step and the service's answer.
      const prefix = `ui-${Date.now()}/`;
      await page.getByRole('link', { name: 'Credentials' }).click();
      await addS3Credential('no-bucket', `no-such-bucket-${Date.now()}`, prefix);
      await page.getByRole('button', { name: 'Test connection' }).click();
      const failed = page.getByTestId('storage-test-report');
      await failed
        .filter({ hasText: /^Failed writing a test object \(BUCKET_NOT_FOUND\): / })
        .waitFor();
      await expect(failed.innerText()).resolves.toMatch(/NoSuchBucket|does not exist/);
      await screenshot(page, '40-backups-s3-test-failed');
      await audit.check(page, 's3 credential: test failed');
      await page.getByRole('button', { name: 'Done' }).click();

      // The test bucket: the test writes, reads back and deletes an object.
      await addS3Credential('bucket', s3Env().BUCKET, prefix);
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page
        .getByTestId('storage-test-report')
        .filter({ hasText: /^Connected in [\d.]+ s\. Wrote, read back and deleted s3:\/\// })
        .waitFor();
      await screenshot(page, '41-backups-s3-test-ok');
      await audit.check(page, 's3 credential: test passed');
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('cell', { name: 'bucket', exact: true }).waitFor();
      await expect(
        page.getByRole('row').filter({ hasText: 'Object storage (S3)' }).count(),
      ).resolves.toBe(2);

      // The platform, once running: the Backups tab.
      await page.goto(`${app.baseUrl}/platforms/${platformId}`);
      await page
        .getByTestId('platform-status')
        .filter({ hasText: /Running|Failed/ })
        .waitFor({ timeout: 15 * MINUTE });
      await expect(page.getByTestId('platform-status').innerText()).resolves.toContain('Running');
      // Readings the backup must carry: deleted after it, back after the restore.
      const kept = () =>
        psql(platformId, "SELECT count(*) FROM readings WHERE device = 'before-backup'");
      psql(
        platformId,
        "INSERT INTO readings SELECT now() - i * interval '1 second', 'room', 'before-backup', jsonb_build_object('seq', i) FROM generate_series(1, 100) i",
      );
      expect(kept()).toBe('100');
      await page.getByRole('tab', { name: 'Backups' }).click();
      await page.getByText('No schedule: nothing is backed up.').waitFor();
      await audit.check(page, 'platform: backups (none)');

      // A schedule: the grant must be accepted; a cron too frequent is refused next to the field.
      await page.getByRole('button', { name: 'Add schedule' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add a backup schedule' });
      await dialog.getByLabel('Storage').click();
      await page.getByRole('option', { name: 'bucket', exact: true }).click();
      await dialog.getByLabel('When').click();
      await page.getByRole('option', { name: 'A cron expression (UTC)' }).click();
      await dialog.getByLabel('Cron expression').fill('*/5 * * * *');
      await dialog.getByLabel('Keep last').fill('3');
      const add = dialog.getByRole('button', { name: 'Add schedule' });
      await expect(add.isDisabled()).resolves.toBe(true);
      await dialog.getByTestId('grant-explanation').getByText('standing grant').waitFor();
      await dialog.getByLabel('I understand: this schedule may open my secrets').check();
      await add.click();
      await dialog.locator('#schedule-cron-error').waitFor();
      await screenshot(page, '42-backups-schedule-error');
      await audit.check(page, 'add schedule with an error');
      await dialog.getByLabel('Cron expression').fill('30 2 * * *');
      await add.click();
      await dialog.waitFor({ state: 'detached' });
      const schedule = page
        .getByTestId('backup-schedules')
        .getByRole('row')
        .filter({ hasText: 'cron 30 2 * * * (UTC)' });
      await schedule.getByText('last 3').waitFor();

      // Run now: the run appears, then succeeds with the stored object's size and SHA-256.
      await schedule.getByRole('button', { name: 'Run now: cron 30 2 * * * (UTC)' }).click();
      const backupRun = page
        .getByTestId('backup-runs')
        .getByRole('row')
        .filter({ hasText: 'Backup' });
      await backupRun.filter({ hasText: /succeeded|failed/ }).waitFor({ timeout: 10 * MINUTE });
      await expect(backupRun.getByTestId('run-error').count()).resolves.toBe(0);
      await expect(backupRun.innerText()).resolves.toContain('succeeded');
      await expect(backupRun.getByTestId('run-size').innerText()).resolves.toMatch(
        /^[\d.]+ (B|KiB|MiB)$/,
      );
      await expect(backupRun.getByTestId('run-sha').innerText()).resolves.toMatch(/^[0-9a-f]{12}$/);
      const runs = await call<{ kind: string; sha256: string | null }[]>(
        'GET',
        `/platforms/${platformId}/backups`,
      );
      await expect(backupRun.getByTestId('run-sha').getAttribute('title')).resolves.toBe(
        runs.find((run) => run.kind === 'backup')?.sha256,
      );
      await screenshot(page, '43-backups-run');
      await audit.check(page, 'platform: backups with a run');
      psql(platformId, "DELETE FROM readings WHERE device = 'before-backup'");
      expect(kept()).toBe('0');

      // A schedule whose bucket is missing: its run fails, with the storage service's own words.
      await page.getByRole('button', { name: 'Add schedule' }).click();
      await dialog.getByLabel('Storage').click();
      await page.getByRole('option', { name: 'no-bucket', exact: true }).click();
      await dialog.getByLabel('When').click();
      await page.getByRole('option', { name: 'Hourly (at :00)' }).click();
      await dialog.getByLabel('I understand: this schedule may open my secrets').check();
      await add.click();
      await dialog.waitFor({ state: 'detached' });
      await page
        .getByTestId('backup-schedules')
        .getByRole('row')
        .filter({ hasText: 'Hourly (at :00)' })
        .getByRole('button', { name: 'Run now: Hourly (at :00)' })
        .click();
      await page
        .getByTestId('backup-runs')
        .getByRole('row')
        .filter({ hasText: 'failed' })
        .getByTestId('run-error')
        .filter({ hasText: /NoSuchBucket/ })
        .waitFor({ timeout: 5 * MINUTE });
      await screenshot(page, '43a-backups-run-failed');
      await audit.check(page, 'platform: backups with a failed run');

      // Restore: the bucket's list offers the backup; the name must be typed; the log follows.
      await page.getByRole('button', { name: 'Restore…' }).click();
      const restore = page.getByRole('dialog', { name: 'Restore vault from a backup' });
      await restore.getByLabel('Storage').click();
      await page.getByRole('option', { name: 'bucket', exact: true }).click();
      await restore.getByTestId('restore-object').filter({ hasText: prefix }).waitFor();
      await expect(
        restore.getByRole('combobox', { name: 'Backup' }).innerText(),
      ).resolves.toContain('this platform');
      // Its own key, for restoring it on another install.
      await restore.getByRole('button', { name: 'Reveal its backup key' }).click();
      await expect(restore.getByTestId('revealed-backup-key').innerText()).resolves.toMatch(
        /^[A-Za-z0-9+/]{43}=$/,
      );
      const restoreButton = restore.getByRole('button', { name: 'Restore', exact: true });
      await restore.getByLabel('Type vault to confirm').fill('vaul');
      await expect(restoreButton.isDisabled()).resolves.toBe(true);
      await screenshot(page, '44-backups-restore');
      await audit.check(page, 'restore dialog');
      await restore.getByLabel('Type vault to confirm').fill('vault');
      await restoreButton.click();
      await page
        .getByTestId('deployment-action')
        .filter({ hasText: 'Restore from a backup' })
        .waitFor();
      const status = page.getByTestId('deployment-status');
      await status
        .filter({ hasText: /^(succeeded|failed|cancelled)$/ })
        .waitFor({ timeout: 10 * MINUTE });
      await expect(status.innerText()).resolves.toBe('succeeded');
      await screenshot(page, '45-backups-restore-log');

      await page.getByRole('tab', { name: 'Backups' }).click();
      await page
        .getByTestId('backup-runs')
        .getByRole('row')
        .filter({ hasText: 'Restore' })
        .filter({ hasText: 'succeeded' })
        .waitFor();
      // The tables' loading masks fade out before the picture.
      await expect.poll(() => page.locator('.p-datatable-mask').count()).toBe(0);
      await screenshot(page, '46-backups-restored');
      expect(kept()).toBe('100');

      // Deleting the schedule asks first, and revokes its standing grant.
      const grants = () =>
        call<{ purpose: string }[]>('GET', '/account/grants').then((list) =>
          list.filter((grant) => grant.purpose.startsWith('backup-schedule:')),
        );
      await expect(grants()).resolves.toHaveLength(2);
      await schedule
        .getByRole('button', { name: 'Delete schedule: cron 30 2 * * * (UTC)' })
        .click();
      const confirmDelete = page
        .getByRole('alertdialog')
        .filter({ hasText: 'Delete the schedule?' });
      await confirmDelete.getByText('its standing grant is revoked').waitFor();
      await audit.check(page, 'delete schedule confirmation');
      await confirmDelete.getByRole('button', { name: 'Delete schedule' }).click();
      await schedule.waitFor({ state: 'detached' });
      await expect(grants()).resolves.toHaveLength(1);

      expect(audit.problems()).toEqual([]);
      expect(consoleProblems).toEqual([]);
    },
    40 * MINUTE,
  );
});
