import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody, finishedDeployment } from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { s3CredentialBody } from '../../test/test-s3';
import { GrantUnavailableError } from '../grants/deployment-grants.service';
import { StandingGrants } from '../grants/standing-grants.service';
import { JobName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { Platform } from '../platforms/platform.entity';
import { drillCron } from './backup-cron';
import { BackupSchedule } from './backup-schedule.entity';

type Schedule = {
  id: string;
  cron: string;
  preset: string | null;
  keepLast: number;
  drill: string;
  nextDrillAt: string | null;
  grantId: string;
  nextRunAt: string;
  createdAt: string;
};

type Run = { kind: string; status: string; scheduleId: string | null; error: string | null };

describe('backup schedules (running API, SQLite)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let userId: string;

  beforeAll(async () => {
    let baseUrl: string;
    ({ app, baseUrl } = await startTestApp());
    api = new ApiClient(baseUrl);
    ({ userId } = await api.signUp('backups'));
  });
  afterAll(async () => app?.close());

  /** A running platform record (no host needed: schedules only store what to do). */
  async function platformOf(
    owner: string,
    credentialId: string,
    database: Platform['database'] = 'postgres',
  ): Promise<string> {
    const id = randomUUID();
    await app.get<Repository<Platform>>(getRepositoryToken(Platform)).insert({
      id,
      userId: owner,
      name: `plant-${id.slice(0, 8)}`,
      activeName: null,
      target: 'ssh-host',
      credentialId,
      spaceId: null,
      database,
      dataVolumeGb: 10,
      tls: true,
      ports: {} as Platform['ports'],
      options: {} as Platform['options'],
      status: 'running',
      deviceUsers: [],
      secrets: {},
      processorScript: '',
      processorPackages: {},
      grafanaPasswordRevealed: false,
      removeDataOnDestroy: false,
    });
    return id;
  }

  it('creates from a preset or cron with a standing grant, lists, deletes with its grant', async () => {
    const bucket = await api.post<{ id: string }>('/credentials', s3CredentialBody('bucket', 'b/'));
    expect(bucket.status, JSON.stringify(bucket.body)).toBe(201);
    const platformId = await platformOf(userId, bucket.body.id);
    const path = `/platforms/${platformId}/backup-schedules`;

    const daily = await api.post<Schedule>(path, { credentialId: bucket.body.id, preset: 'daily' });
    expect(daily.status, JSON.stringify(daily.body)).toBe(201);
    expect(daily.body).toMatchObject({ cron: '0 3 * * *', preset: 'daily', keepLast: 7 });
    expect(new Date(daily.body.nextRunAt).getUTCHours()).toBe(3);
    const custom = await api.post<Schedule>(path, {
      credentialId: bucket.body.id,
      cron: '30 */6 * * *',
      keepLast: 4,
    });
    expect(custom.status, JSON.stringify(custom.body)).toBe(201);
    expect((await api.get<Schedule[]>(path)).body.map((s) => s.id).sort()).toEqual(
      [daily.body.id, custom.body.id].sort(),
    );

    const grants = await api.get<{ id: string; purpose: string }[]>('/account/grants');
    expect(grants.body.map((grant) => grant.purpose).sort()).toEqual(
      [`backup-schedule:${daily.body.id}`, `backup-schedule:${custom.body.id}`].sort(),
    );
    const standing = app.get(StandingGrants);
    expect((await standing.open(daily.body.grantId)).userId).toBe(userId);

    // The bucket's credential cannot go while a schedule uses it.
    const inUse = await api.delete<ErrorBody>(`/credentials/${bucket.body.id}`);
    expect(inUse.status).toBe(409);

    expect((await api.delete(`${path}/${daily.body.id}`)).status).toBe(204);
    await expect(standing.open(daily.body.grantId)).rejects.toThrow(GrantUnavailableError);
    expect((await api.get<Schedule[]>(path)).body.map((s) => s.id)).toEqual([custom.body.id]);
  });

  it('refuses a bad cron, both or neither timing, a non-s3 credential, another user', async () => {
    const bucket = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('bucket-2', 'c/'),
    );
    const platformId = await platformOf(userId, bucket.body.id);
    const path = `/platforms/${platformId}/backup-schedules`;
    const refused = async (body: object, field: string, code?: string) => {
      const answer = await api.post<ErrorBody>(path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(answer.body.error.details)).toContain(field);
      if (code) expect(answer.body.error.code).toBe(code);
    };
    const credentialId = bucket.body.id;
    const grantsBefore = (await api.get<unknown[]>('/account/grants')).body;
    await refused({ credentialId, cron: '61 * * * *' }, 'cron', 'INVALID_CRON');
    await refused({ credentialId, cron: 'every day' }, 'cron', 'INVALID_CRON');
    await refused({ credentialId, cron: '* * * * *' }, 'cron', 'INVALID_CRON');
    await refused({ credentialId, preset: 'daily', cron: '0 1 * * *' }, 'cron');
    await refused({ credentialId }, 'cron');
    await refused({ credentialId, preset: 'monthly' }, 'preset');
    await refused({ credentialId, preset: 'daily', keepLast: 0 }, 'keepLast');
    const aws = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws-x',
      region: 'eu-central-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: 'aws-secret-for-the-test',
    });
    await refused(
      { credentialId: aws.body.id, preset: 'daily' },
      'credentialId',
      'CREDENTIAL_NOT_S3',
    );
    expect((await api.get<Schedule[]>(path)).body).toEqual([]);
    expect((await api.get<unknown[]>('/account/grants')).body).toEqual(grantsBefore);

    const other = new ApiClient(api.baseUrl);
    await other.signUp('backups-other');
    expect((await other.get(path)).status).toBe(404);
    expect((await other.post(path, { credentialId, preset: 'daily' })).status).toBe(404);
  });
  it("a destroyed platform's schedules go with their standing grants and job schedulers; removing one destroyed before that does the same", async () => {
    const bucket = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('bucket-3', 'd/'),
    );
    const standing = app.get(StandingGrants);
    const queue = app.get(JobQueue);
    const scheduleOn = async (platformId: string) => {
      const made = await api.post<Schedule>(`/platforms/${platformId}/backup-schedules`, {
        credentialId: bucket.body.id,
        preset: 'hourly',
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(await queue.schedulerIds()).toContain(`backup-schedule:${made.body.id}`);
      return made.body;
    };
    const expectGone = async (schedule: Schedule) => {
      await expect(standing.open(schedule.grantId)).rejects.toThrow(GrantUnavailableError);
      expect(await queue.schedulerIds()).not.toContain(`backup-schedule:${schedule.id}`);
      const rows = app.get<Repository<BackupSchedule>>(getRepositoryToken(BackupSchedule));
      expect(await rows.findOneBy({ id: schedule.id })).toBeNull();
    };

    // Destroyed through the API: the destroy job (nothing was put on this record's host).
    const destroyedId = await platformOf(userId, bucket.body.id);
    const onDestroyed = await scheduleOn(destroyedId);
    const kept = await scheduleOn(await platformOf(userId, bucket.body.id));
    const destroy = await api.delete<{ deploymentId: string }>(`/platforms/${destroyedId}`, {});
    expect(destroy.status, JSON.stringify(destroy.body)).toBe(202);
    const destroyed = await finishedDeployment(api, destroy.body.deploymentId, 60_000);
    expect(destroyed, JSON.stringify(destroyed)).toMatchObject({ status: 'succeeded' });
    await expectGone(onDestroyed);
    expect((await standing.open(kept.grantId)).userId).toBe(userId);
    expect(await queue.schedulerIds()).toContain(`backup-schedule:${kept.id}`);

    // Destroyed before schedules were let go of (its schedule still there): removal does it.
    const removedId = await platformOf(userId, bucket.body.id);
    const onRemoved = await scheduleOn(removedId);
    await app
      .get<Repository<Platform>>(getRepositoryToken(Platform))
      .update({ id: removedId }, { status: 'destroyed' });
    expect((await api.post(`/platforms/${removedId}/remove`)).status).toBe(204);
    await expectGone(onRemoved);
    expect((await standing.open(kept.grantId)).userId).toBe(userId);
  });

  it('a weekly drill has its own job scheduler after the backups, removed with the schedule; a drill turn that cannot start is a failed drill run', async () => {
    const bucket = await api.post<{ id: string }>(
      '/credentials',
      s3CredentialBody('bucket-4', 'e/'),
    );
    const credentialId = bucket.body.id;
    const queue = app.get(JobQueue);
    const platformId = await platformOf(userId, credentialId);
    const path = `/platforms/${platformId}/backup-schedules`;

    const refused = await api.post<ErrorBody>(path, {
      credentialId,
      preset: 'daily',
      drill: 'monthly',
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error.details)).toContain("drill must be 'off' or 'weekly'");
    const mongo = await platformOf(userId, credentialId, 'mongodb');
    const unsupported = await api.post<ErrorBody>(`/platforms/${mongo}/backup-schedules`, {
      credentialId,
      preset: 'daily',
      drill: 'weekly',
    });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body.error.code).toBe('DRILL_UNSUPPORTED');
    expect((await api.get<Schedule[]>(path)).body).toEqual([]);

    const plain = await api.post<Schedule>(path, { credentialId, preset: 'daily' });
    expect(plain.body).toMatchObject({ drill: 'off', nextDrillAt: null });
    expect(await queue.schedulerPattern(`backup-drill:${plain.body.id}`)).toBeNull();

    const drilled = await api.post<Schedule>(path, {
      credentialId,
      preset: 'daily',
      drill: 'weekly',
    });
    expect(drilled.status, JSON.stringify(drilled.body)).toBe(201);
    expect(drilled.body.drill).toBe('weekly');
    const pattern = await queue.schedulerPattern(`backup-drill:${drilled.body.id}`);
    // Once a week, an hour after the daily 03:00 backup.
    expect(pattern).toMatch(/^0 4 \* \* [0-6]$/);
    expect(pattern).toBe(drillCron('0 3 * * *', new Date(drilled.body.createdAt)));
    const nextDrill = new Date(drilled.body.nextDrillAt!);
    expect(nextDrill.getUTCHours()).toBe(4);
    expect(nextDrill.getTime() - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600_000);
    expect((await api.get<Schedule[]>(path)).body.find((s) => s.id === drilled.body.id)).toEqual(
      drilled.body,
    );

    const drillRuns = async () =>
      (await api.get<Run[]>(`/platforms/${platformId}/backups`)).body.filter(
        (run) => run.kind === 'drill' && run.scheduleId === drilled.body.id,
      );
    await app
      .get<Repository<Platform>>(getRepositoryToken(Platform))
      .update({ id: platformId }, { status: 'failed' });
    await queue.queue({
      name: JobName.BackupDrillScheduled,
      data: { scheduleId: drilled.body.id },
    });
    const [notRunning] = await waitFor(
      async () => {
        const runs = await drillRuns();
        return runs.length > 0 ? runs : undefined;
      },
      { what: 'the failed drill run' },
    );
    expect(notRunning).toMatchObject({
      status: 'failed',
      error: 'The platform is failed, not running: a drill needs its host',
    });

    await app.get(StandingGrants).revokeFor(userId, `backup-schedule:${drilled.body.id}`);
    await queue.queue({
      name: JobName.BackupDrillScheduled,
      data: { scheduleId: drilled.body.id },
    });
    const revoked = await waitFor(
      async () => (await drillRuns()).find((run) => run.error?.includes('grant')),
      { what: 'the second failed drill run' },
    );
    expect(revoked.status).toBe('failed');
    expect(revoked.error).toContain('standing grant of this schedule was revoked');

    expect((await api.delete(`${path}/${drilled.body.id}`)).status).toBe(204);
    expect(await queue.schedulerPattern(`backup-drill:${drilled.body.id}`)).toBeNull();
    expect(await queue.schedulerIds()).not.toContain(`backup-schedule:${drilled.body.id}`);
  });
});
