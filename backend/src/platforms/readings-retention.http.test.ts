import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
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
