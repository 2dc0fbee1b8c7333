import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody, finishedDeployment } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';
import { Deployment } from '../deployments/deployment.entity';
import type { PlatformDto } from './dto/platform.dto';
import { Platform } from './platform.entity';

/**
 * The API side of readings retention (SQLite + Redis, API role: the job is queued, not run; the
 * playbook and the databases are tested in platform-stack/processor/test/readings-retention.test.ts
 * and provision/readings-retention-playbook.test.ts).
 */
describe('Readings retention API', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  let made = 0;
  async function launch(api: ApiClient, extra: Record<string, unknown> = {}) {
    made += 1;
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: `r-${made}`,
      host: '127.0.0.1',
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    return api.post<{ platform: PlatformDto } & ErrorBody>('/platforms', {
      name: `r${Date.now().toString(36)}-${made}`,
      target: 'ssh-host',
      credentialId: credential.body.id,
      ...extra,
    });
  }

  /** As if the launch had finished: running, its deployment done. */
  async function markRunning(id: string) {
    const data = app.get(DataSource);
    await data.getRepository(Platform).update({ id }, { status: 'running' });
    await data
      .getRepository(Deployment)
      .update({ targetId: id }, { status: 'succeeded', activeKey: null });
  }

  it('is set at launch (null by default), shown on the platform, and checked', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('keeper');
    const kept = await launch(api, { readingsRetentionDays: 30 });
    expect(kept.status).toBe(202);
    expect(kept.body.platform.readingsRetentionDays).toBe(30);
    expect((await launch(api)).body.platform.readingsRetentionDays).toBeNull();
    for (const bad of [0, 3651, 2.5, '30', '30; DROP TABLE readings']) {
      const refused = await launch(api, { readingsRetentionDays: bad });
      expect(refused.status, String(bad)).toBe(400);
      expect(refused.body.error.message).toMatch(/readingsRetentionDays/);
    }
  });

  it('is changed on a running platform as a deployment of its own, and refuses bad days with 400 leaving the record as it was', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('changer');
    const { id } = (await launch(api, { readingsRetentionDays: 90 })).body.platform;

    const notRunning = await api.request<ErrorBody>('PUT', `/platforms/${id}/readings-retention`, {
      days: 7,
    });
    expect(notRunning.status).toBe(409);

    await markRunning(id);
    for (const body of [{ days: 0 }, { days: 4000 }, { days: '7' }, { days: 1.5 }, {}]) {
      const refused = await api.request<ErrorBody>(
        'PUT',
        `/platforms/${id}/readings-retention`,
        body,
      );
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error.code).toBeTruthy();
    }
    expect((await api.get<PlatformDto>(`/platforms/${id}`)).body.readingsRetentionDays).toBe(90);

    const changed = await api.request<{ deploymentId: string }>(
      'PUT',
      `/platforms/${id}/readings-retention`,
      { days: 7 },
    );
    expect(changed.status).toBe(202);
    const deployment = await app
      .get(DataSource)
      .getRepository(Deployment)
      .findOneByOrFail({ id: changed.body.deploymentId });
    expect(deployment).toMatchObject({ action: 'readings-retention', targetId: id });
    expect((await api.get<PlatformDto>(`/platforms/${id}`)).body.readingsRetentionDays).toBe(7);

    // While that runs, another change waits its turn: 409, and the record keeps 7.
    const busy = await api.request<ErrorBody>('PUT', `/platforms/${id}/readings-retention`, {
      days: null,
    });
    expect(busy.status).toBe(409);
    expect((await api.get<PlatformDto>(`/platforms/${id}`)).body.readingsRetentionDays).toBe(7);

    await markRunning(id);
    const forever = await api.request('PUT', `/platforms/${id}/readings-retention`, { days: null });
    expect(forever.status).toBe(202);
    expect((await api.get<PlatformDto>(`/platforms/${id}`)).body.readingsRetentionDays).toBeNull();
  });

  it("answers 404 for another user's platform", async () => {
    const owner = new ApiClient(baseUrl);
    await owner.signUp('owner');
    const { id } = (await launch(owner)).body.platform;
    await markRunning(id);
    const other = new ApiClient(baseUrl);
    await other.signUp('other');
    const answer = await other.request('PUT', `/platforms/${id}/readings-retention`, { days: 3 });
    expect(answer.status).toBe(404);
  });
});

/**
 * A change whose deployment fails, with the worker running: the platform's pinned host key is not
 * the test SSH host's, so the job's SSH connection is refused for real and the record must go back.
 */
describe('Readings retention change that fails (worker running)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let userId: string;

  beforeAll(async () => {
    let baseUrl: string;
    ({ app, baseUrl } = await startTestApp());
    api = new ApiClient(baseUrl);
    ({ userId } = await api.signUp('rollback'));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('puts the record back to the retention in force before when the job fails', async () => {
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'test-host',
      host: process.env.FS_TEST_SSH_HOST,
      port: Number(process.env.FS_TEST_SSH_PORT),
      username: process.env.FS_TEST_SSH_USER,
      auth: 'uploaded-key',
      privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
    });
    expect(credential.status, JSON.stringify(credential.body)).toBe(201);
    // A running platform whose pinned host key is another host's.
    const id = randomUUID();
    const platforms = app.get(DataSource).getRepository(Platform);
    await platforms.insert({
      id,
      userId,
      name: `rollback-${id.slice(0, 8)}`,
      activeName: null,
      target: 'ssh-host',
      credentialId: credential.body.id,
      spaceId: null,
      database: 'postgres',
      dataVolumeGb: 10,
      readingsRetentionDays: 90,
      previousReadingsRetentionDays: null,
      tls: false,
      ports: {} as Platform['ports'],
      options: {} as Platform['options'],
      status: 'running',
      hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
      deviceUsers: [],
      secrets: {},
      processorScript: '',
      processorPackages: {},
      grafanaPasswordRevealed: false,
      removeDataOnDestroy: false,
    });

    const change = async (days: number | null) => {
      const changed = await api.request<{ deploymentId: string }>(
        'PUT',
        `/platforms/${id}/readings-retention`,
        { days },
      );
      expect(changed.status, JSON.stringify(changed.body)).toBe(202);
      const deployment = await finishedDeployment(api, changed.body.deploymentId, 120_000);
      expect(deployment, JSON.stringify(deployment)).toMatchObject({
        status: 'failed',
        step: 'readings-retention',
      });
      expect(deployment.error).toMatch(/host key of .* changed/);
      return (await api.get<PlatformDto>(`/platforms/${id}`)).body.readingsRetentionDays;
    };
    expect(await change(7)).toBe(90);
    expect(await change(null)).toBe(90);
    await platforms.update({ id }, { readingsRetentionDays: null });
    expect(await change(30)).toBeNull();
  }, 400_000);
});
