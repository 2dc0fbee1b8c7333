import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody, finishedDeployment } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { readSse } from '../../test/sse';
import { serviceUrl, waitFor } from '../../test/test-env';
import { s3CredentialBody, testS3, testS3Client } from '../../test/test-s3';
import { freeLoopbackPort } from '../common/free-port';
import { DataKey } from '../crypto/data-key';
import { JobName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { PlatformHost } from '../provision/platform-host';
import { SshClient } from '../provision/ssh-client';
import { testDockerHost, testImages, testSshTarget } from '../provision/testing/test-ssh-host';
import { listKeys, scheduleBackupPrefix, writeBackup } from './backup-archive';

type Run = {
  id: string;
  kind: string;
  status: string;
  scheduleId: string | null;
  deploymentId: string | null;
  objectKey: string | null;
  bytes: number | null;
  sha256: string | null;
  durationMs: number | null;
  pruned: number | null;
  error: string | null;
  readingsCount: number | null;
  recoveryPointAt: string | null;
  backupCreatedAt: string | null;
};
type Stored = { objectKey: string; platformId: string; keyOpens: boolean; sha256: string };

const execFileAsync = promisify(execFile);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Scheduled backups and restores for real: a PostgreSQL platform launched through the API on the
 * local SSH host (test dockerd), the s3rver test bucket through AWS SDK v3, the worker's BullMQ
 * jobs in the test Redis. One platform for the whole file.
 */
describe('backup runs and restores (platform on the SSH host, s3rver, BullMQ)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let account: { email: string; password: string };
  let platformId: string;
  const prefix = `runs-${randomUUID()}/`;
  let bucketCredentialId: string;
  let scheduled: Run;

  /**
   * Stores beside the scheduled backup a copy with one byte flipped and its manifest (optionally
   * with a later `createdAt`, making it the schedule's newest); answers the copy's key.
   */
  const storeCorruptCopy = async (suffix: string, createdAt?: string) => {
    const s3 = testS3();
    const client = testS3Client();
    const read = async (key: string) =>
      Buffer.from(
        await (
          await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))
        ).Body!.transformToByteArray(),
      );
    const corruptKey = scheduled.objectKey!.replace(/\.enc$/, `${suffix}.pgdump.enc`);
    const bytes = await read(scheduled.objectKey!);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    const manifest = JSON.parse((await read(`${scheduled.objectKey}.manifest.json`)).toString());
    manifest.object.key = corruptKey;
    if (createdAt) manifest.createdAt = createdAt;
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: corruptKey, Body: bytes }));
    await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `${corruptKey}.manifest.json`,
        Body: JSON.stringify(manifest),
      }),
    );
    return corruptKey;
  };

  /** psql in the platform's database container; async, so the in-process API keeps serving. */
  const psql = async (sql: string) => {
    const docker = (...args: string[]) =>
      execFileAsync('docker', args, { env: { ...process.env, DOCKER_HOST: testDockerHost() } });
    const { stdout: container } = await docker(
      'ps',
      '--quiet',
      '--filter',
      `label=com.docker.compose.project=fieldstation-${platformId}`,
      '--filter',
      'label=com.docker.compose.service=database',
    );
    const { stdout } = await docker(
      'exec',
      container.trim(),
      'psql',
      '--username=postgres',
      '--dbname=telemetry',
      '--tuples-only',
      '--no-align',
      '--command',
      sql,
    );
    return stdout.trim();
  };
  const devices = () =>
    psql("SELECT device || ':' || count(*) FROM readings GROUP BY device ORDER BY device");
  /** Every log line of a finished deployment, from its event stream. */
  const logOf = async (deploymentId: string) => {
    const lines: string[] = [];
    const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
      headers: { authorization: `Bearer ${api.accessToken}` },
    });
    await readSse(response, (event) => {
      if (event.event === 'log') lines.push((event.data as { message: string }).message);
      return event.event === 'end';
    });
    return lines;
  };
  const runs = async () => (await api.get<Run[]>(`/platforms/${platformId}/backups`)).body;
  /** The names in the platform's dumps directory on the host (over the test sshd). */
  const dumpsOnHost = async () => {
    const session = await new SshClient().connect(testSshTarget());
    const names: string[] = [];
    try {
      await session.run(
        ['sudo', '-n', 'ls', '-A', app.get(PlatformHost).layout(platformId).dumpsDir],
        ({ stream, line }) => {
          if (stream === 'stdout' && line.trim()) names.push(line.trim());
        },
      );
    } finally {
      session.close();
    }
    return names;
  };

  beforeAll(async () => {
    const { archive, images } = testImages();
    const started = await startTestApp({
      env: {
        IMAGE_SUPPLY: 'offline',
        IMAGE_ARCHIVES: archive,
        STACK_IMAGES: JSON.stringify(images),
        HOST_DOCKER_HOST: testDockerHost(),
        HOST_MANAGE_DOCKER_SERVICE: 'false',
      },
    });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    account = await api.signUp('backups');
    const host = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'test-host',
      host: process.env.FS_TEST_SSH_HOST,
      port: Number(process.env.FS_TEST_SSH_PORT),
      username: process.env.FS_TEST_SSH_USER,
      auth: 'uploaded-key',
      privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
    });
    expect(host.status).toBe(201);
    const launched = await api.post<{ platform: { id: string }; deploymentId: string }>(
      '/platforms',
      {
        name: 'backed-up',
        target: 'ssh-host',
        credentialId: host.body.id,
        database: 'postgres',
        deviceUsers: ['sensor-1'],
        tls: false,
        ports: {
          amqp: await freeLoopbackPort(),
          mqtt: await freeLoopbackPort(),
          rabbitmqManagement: null,
          grafana: null,
        },
      },
    );
    expect(launched.status, JSON.stringify(launched.body)).toBe(202);
    platformId = launched.body.platform.id;
    const launch = await finishedDeployment(api, launched.body.deploymentId, 900_000);
    expect(launch, JSON.stringify(launch)).toMatchObject({ status: 'succeeded' });
    await psql(
      "INSERT INTO readings SELECT now() - i * interval '1 second', 'room', 'before-backup', jsonb_build_object('seq', i) FROM generate_series(1, 5000) i",
    );
    const bucket = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('bucket', prefix),
    );
    expect(bucket.status, JSON.stringify(bucket.body)).toBe(201);
    bucketCredentialId = bucket.body.id;
  }, 960_000);

  afterAll(async () => {
    if (platformId) {
      const destroyed = await api.delete<{ deploymentId: string }>(`/platforms/${platformId}`, {
        removeData: true,
      });
      if (destroyed.status === 202) {
        await finishedDeployment(api, destroyed.body.deploymentId, 600_000);
      }
    }
    await app?.close();
  }, 660_000);

  it('a scheduled turn runs without a session: pg_dump streamed from the host, encrypted upload, read-back verified, retention within its own schedule', async () => {
    const schedule = await api.post<{ id: string }>(`/platforms/${platformId}/backup-schedules`, {
      credentialId: bucketCredentialId,
      preset: 'daily',
      keepLast: 2,
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    const scheduleId = schedule.body.id;
    const queue = app.get(JobQueue);
    expect(await queue.schedulerIds()).toContain(`backup-schedule:${scheduleId}`);

    // Two older backups of this schedule, and one of another schedule that must stay.
    const s3 = testS3();
    const bucket = { client: testS3Client(), location: { bucket: s3.bucket, prefix } };
    const old = async (scheduleFolder: string, day: number) =>
      writeBackup(bucket, Readable.from([randomBytes(64)]), {
        platformId,
        scheduleId: scheduleFolder,
        dumpFormat: 'raw',
        dataKey: DataKey.generate(),
        now: new Date(`2026-11-0${day}T03:00:00Z`),
      });
    const oldest = await old(scheduleId, 1);
    const older = await old(scheduleId, 2);
    const otherSchedule = randomUUID();
    const others = await old(otherSchedule, 1);

    // Signed out: the turn opens the schedule's standing grant, nothing else.
    expect((await api.post('/auth/logout', { refreshToken: api.refreshToken })).status).toBe(204);
    // What the schedule's BullMQ job scheduler queues at 03:00 UTC.
    await queue.queue({ name: JobName.BackupScheduled, data: { scheduleId } });
    expect((await api.login(account.email, account.password)).status).toBe(200);

    const started = await waitFor(
      async () => (await runs()).find((run) => run.scheduleId === scheduleId && run.deploymentId),
      { timeoutMs: 60_000, what: 'the scheduled run to start' },
    );
    const deployment = await finishedDeployment(api, started.deploymentId!, 600_000);
    expect(deployment, JSON.stringify(deployment)).toMatchObject({ status: 'succeeded' });
    scheduled = (await runs()).find((run) => run.id === started.id)!;
    expect(scheduled).toMatchObject({
      kind: 'backup',
      status: 'succeeded',
      pruned: 1,
      error: null,
    });
    expect(scheduled.bytes).toBeGreaterThan(1000);
    expect(scheduled.durationMs).toBeGreaterThan(0);

    // The stored object is what the run recorded, and the bucket cannot read it.
    const stored = Buffer.from(
      await (
        await bucket.client.send(
          new GetObjectCommand({ Bucket: s3.bucket, Key: scheduled.objectKey! }),
        )
      ).Body!.transformToByteArray(),
    );
    expect(stored.length).toBe(scheduled.bytes);
    expect(sha256(stored)).toBe(scheduled.sha256);
    expect(stored.includes(Buffer.from('before-backup'))).toBe(false);

    // Retention: keepLast 2 deleted the oldest of this schedule only.
    const ownFolder = scheduleBackupPrefix(bucket.location, platformId, scheduleId);
    const own = (await listKeys(bucket, ownFolder)).filter((key) => key.endsWith('.enc')).sort();
    expect(own).toEqual([older.object.key, scheduled.objectKey].sort());
    expect(own).not.toContain(oldest.object.key);
    const otherFolder = scheduleBackupPrefix(bucket.location, platformId, otherSchedule);
    expect(await listKeys(bucket, otherFolder)).toContain(others.object.key);

    const lines = (await logOf(started.deploymentId!)).join('\n');
    // PostgreSQL: pg_dump streamed over SSH (no dump step, no file on the host), checked as it
    // streamed, then the stored bytes read back.
    expect(lines).toMatch(/Streaming pg_dump from the host into the bucket/);
    expect(lines).not.toMatch(/Dump PostgreSQL|dumps\/postgres-/);
    expect(lines).toMatch(/archive structure verified; reading it back/);
    expect(lines).toMatch(/Read back: size and SHA-256 match what was sent/);
    expect(lines).toMatch(/Stage figures: dump bytes arrived from \d+ to \d+ ms/);
    expect(lines).toMatch(/Retention deleted 1/);
  }, 600_000);

  it("a restore drill restores the schedule's newest backup into a scratch container on the host and records the recovery point it proved; nothing is left behind", async () => {
    const expected = {
      count: Number(await psql('SELECT count(*) FROM readings')),
      newestMs: Number(
        await psql('SELECT floor(extract(epoch FROM max(time)) * 1000) FROM readings'),
      ),
    };
    const before = await devices();
    const accepted = await api.post<{ deploymentId: string }>(
      `/platforms/${platformId}/backup-schedules/${scheduled.scheduleId}/drill`,
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const deployment = await finishedDeployment(api, accepted.body.deploymentId, 600_000);
    expect(deployment, JSON.stringify(deployment)).toMatchObject({
      action: 'restore-drill',
      status: 'succeeded',
    });
    const drill = (await runs()).find((run) => run.id === accepted.body.deploymentId)!;
    expect(drill).toMatchObject({
      kind: 'drill',
      status: 'succeeded',
      scheduleId: scheduled.scheduleId,
      objectKey: scheduled.objectKey,
      sha256: scheduled.sha256,
      readingsCount: expected.count,
      error: null,
    });
    expect(expected.count).toBe(5000);
    expect(new Date(drill.recoveryPointAt!).getTime()).toBe(expected.newestMs);
    expect(drill.backupCreatedAt).not.toBeNull();

    const lines = (await logOf(accepted.body.deploymentId)).join('\n');
    expect(lines).toMatch(/Starting scratch container fs-drill-[0-9a-f-]{36} from /);
    expect(lines).toMatch(/Drill restored 5000 readings; recovery point /);
    // The scratch container and its volume are gone; the platform's database was not touched.
    const { stdout: leftOver } = await execFileAsync(
      'docker',
      ['ps', '--all', '--quiet', '--filter', `label=fieldstation.drill-of=${platformId}`],
      { env: { ...process.env, DOCKER_HOST: testDockerHost() } },
    );
    expect(leftOver.trim()).toBe('');
    expect((await dumpsOnHost()).filter((name) => name.startsWith('drill-'))).toEqual([]);
    expect(await devices()).toBe(before);

    const other = await api.post<ErrorBody>(
      `/platforms/${platformId}/backup-schedules/${randomUUID()}/drill`,
    );
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('BACKUP_SCHEDULE_NOT_FOUND');
  }, 660_000);

  it('a restore drill of a corrupted newest backup fails in its verify step: nothing loaded, no scratch container, no file left on the host', async () => {
    // The schedule's newest backup now: a copy with one byte flipped, its manifest made later.
    const corruptKey = await storeCorruptCopy('-drill-corrupt', new Date().toISOString());
    try {
      const accepted = await api.post<{ deploymentId: string }>(
        `/platforms/${platformId}/backup-schedules/${scheduled.scheduleId}/drill`,
      );
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      const deployment = await finishedDeployment(api, accepted.body.deploymentId, 300_000);
      expect(deployment, JSON.stringify(deployment)).toMatchObject({
        status: 'failed',
        step: 'verify',
      });
      expect(deployment.error).toMatch(/^Refused before touching the platform: /);
      expect(deployment.error).toMatch(/stored object differs|authentication/);
      const drill = (await runs()).find((run) => run.id === accepted.body.deploymentId)!;
      expect(drill).toMatchObject({
        kind: 'drill',
        status: 'failed',
        objectKey: corruptKey,
        readingsCount: null,
        recoveryPointAt: null,
      });
      const lines = (await logOf(accepted.body.deploymentId)).join('\n');
      expect(lines).toMatch(/nothing is loaded before it is verified/);
      expect(lines).not.toMatch(/Step drill started|Starting scratch container/);
      const { stdout: scratch } = await execFileAsync(
        'docker',
        ['ps', '--all', '--quiet', '--filter', `label=fieldstation.drill-of=${platformId}`],
        { env: { ...process.env, DOCKER_HOST: testDockerHost() } },
      );
      expect(scratch.trim()).toBe('');
      expect((await dumpsOnHost()).filter((name) => name.startsWith('drill-'))).toEqual([]);
    } finally {
      for (const key of [corruptKey, `${corruptKey}.manifest.json`]) {
        await testS3Client().send(new DeleteObjectCommand({ Bucket: testS3().bucket, Key: key }));
      }
    }
  }, 360_000);

  it("a storage failure fails the run with the storage service's message, on the platform's list", async () => {
    const wrong = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('missing-bucket', prefix, { bucket: `no-such-bucket-${Date.now()}` }),
    );
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(201);
    const schedule = await api.post<{ id: string }>(`/platforms/${platformId}/backup-schedules`, {
      credentialId: wrong.body.id,
      preset: 'hourly',
    });
    const now = await api.post<{ deploymentId: string }>(
      `/platforms/${platformId}/backup-schedules/${schedule.body.id}/run`,
    );
    expect(now.status, JSON.stringify(now.body)).toBe(202);
    const deployment = await finishedDeployment(api, now.body.deploymentId, 600_000);
    expect(deployment.status).toBe('failed');
    expect(deployment.error).toMatch(
      /NoSuchBucket \(HTTP 404\): The specified bucket does not exist/,
    );
    const run = (await runs()).find((candidate) => candidate.id === now.body.deploymentId)!;
    expect(run).toMatchObject({ status: 'failed', objectKey: null, error: deployment.error });
    expect(
      (await api.delete(`/platforms/${platformId}/backup-schedules/${schedule.body.id}`)).status,
    ).toBe(204);
  }, 600_000);

  it('a corrupted or wrongly keyed archive fails its restore deployment in the verify step, the host untouched; a foreign one without its key is a 4xx', async () => {
    const s3 = testS3();
    const client = testS3Client();
    // A copy with one byte flipped, beside its (copied) manifest.
    const corruptKey = await storeCorruptCopy('-corrupt');
    // Another install's backup (another data key) of a platform this install never saw.
    const foreign = await writeBackup(
      { client, location: { bucket: s3.bucket, prefix } },
      spawn('pg_dump', ['--format=custom', '--dbname', serviceUrl('FS_TEST_POSTGRES_URL')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }).stdout,
      { platformId: 'elsewhere', dumpFormat: 'pgdump', dataKey: DataKey.generate() },
    );

    const listed = await api.get<Stored[]>(`/credentials/${bucketCredentialId}/backups`);
    expect(listed.status).toBe(200);
    const byKey = new Map(listed.body.map((backup) => [backup.objectKey, backup]));
    expect(byKey.get(scheduled.objectKey!)).toMatchObject({ platformId, keyOpens: true });
    expect(byKey.get(foreign.object.key)).toMatchObject({
      platformId: 'elsewhere',
      keyOpens: false,
    });

    const before = await devices();
    const restore = (body: object) =>
      api.post<ErrorBody & { deploymentId: string }>(`/platforms/${platformId}/backups/restore`, {
        credentialId: bucketCredentialId,
        ...body,
      });
    /** Answered 202 at once; the job's first step reads the backup back and refuses it. */
    const refusedInJob = async (body: object, error: RegExp) => {
      const accepted = await restore(body);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      const deployment = await finishedDeployment(api, accepted.body.deploymentId, 300_000);
      expect(deployment, JSON.stringify(deployment)).toMatchObject({
        status: 'failed',
        step: 'verify',
      });
      expect(deployment.error).toMatch(/^Refused before touching the platform: /);
      expect(deployment.error).toMatch(error);
      const lines = (await logOf(accepted.body.deploymentId)).join('\n');
      expect(lines).toMatch(/the database is not touched before it is verified/);
      expect(lines).not.toMatch(/Step restore started/);
      // The file the bytes streamed into went before the step failed.
      expect(await dumpsOnHost()).not.toContain('restore-upload');
      const run = (await runs()).find((candidate) => candidate.id === accepted.body.deploymentId);
      expect(run).toMatchObject({ kind: 'restore', status: 'failed', error: deployment.error });
      expect(await devices()).toBe(before);
    };

    await refusedInJob({ objectKey: corruptKey }, /stored object differs|authentication/);
    await refusedInJob(
      { objectKey: scheduled.objectKey, backupKey: randomBytes(32).toString('base64') },
      /authentication \(GCM tag mismatch\)/,
    );

    const deploymentsBefore = (await api.get<unknown[]>(`/deployments?targetId=${platformId}`)).body
      .length;
    const unkeyed = await restore({ objectKey: foreign.object.key });
    expect(unkeyed.status, JSON.stringify(unkeyed.body)).toBe(400);
    expect(unkeyed.body.error.code).toBe('BACKUP_KEY_REQUIRED');

    const notThere = await restore({ objectKey: `${prefix}platforms/x/none.pgdump.enc` });
    expect(notThere.status).toBe(404);
    const outside = await restore({ objectKey: 'elsewhere/x.pgdump.enc' });
    expect(outside.status).toBe(400);

    expect((await api.get<unknown[]>(`/deployments?targetId=${platformId}`)).body).toHaveLength(
      deploymentsBefore,
    );
    expect(await devices()).toBe(before);
  }, 660_000);

  it('restores a stored backup into the platform, given its exported key as another install would', async () => {
    await psql("DELETE FROM readings WHERE device = 'before-backup'");
    await psql(
      "INSERT INTO readings VALUES (now(), 'room', 'after-backup', '{\"seq\": 1}'::jsonb)",
    );
    expect(await devices()).toBe('after-backup:1');

    const exported = await api.post<{ backupKey: string }>(
      `/credentials/${bucketCredentialId}/backups/key`,
      { objectKey: scheduled.objectKey },
    );
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    const accepted = await api.post<{ deploymentId: string }>(
      `/platforms/${platformId}/backups/restore`,
      {
        credentialId: bucketCredentialId,
        objectKey: scheduled.objectKey,
        backupKey: exported.body.backupKey,
      },
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const deployment = await finishedDeployment(api, accepted.body.deploymentId, 600_000);
    expect(deployment, JSON.stringify(deployment)).toMatchObject({ status: 'succeeded' });
    expect(await devices()).toBe('before-backup:5000');
    // One read of the object: verified on its way into the host's file, then restored from it.
    const lines = (await logOf(accepted.body.deploymentId)).join('\n');
    expect(lines).toMatch(
      /Verified: checksum, authentication tag and archive structure of the file on the host/,
    );
    expect(lines).toMatch(/Step restore started/);
    expect(lines).not.toMatch(/Step download started/);
    expect(await dumpsOnHost()).not.toContain('restore-upload');
    const run = (await runs()).find((candidate) => candidate.id === accepted.body.deploymentId);
    expect(run).toMatchObject({
      kind: 'restore',
      status: 'succeeded',
      objectKey: scheduled.objectKey,
    });
  }, 900_000);
});
