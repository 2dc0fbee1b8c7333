import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient,
  finishedDeployment,
  sshHostCredential,
  type ErrorBody,
} from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';

type Accepted = { platform: { id: string }; deploymentId: string };

// Reading a running platform's database over SSH is proven in provision/platform-host.test.ts
// (real launch); here: the edge of the route (validation, ownership, status).
describe('GET /platforms/:id/readings', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ env: { SSH_WAIT_SECONDS: '1' } }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('validates limit, answers 404 for another user and 409 while the platform does not run', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('reader');
    const credentialId = await sshHostCredential(api, await freeLoopbackPort());
    const launched = await api.post<Accepted>('/platforms', {
      name: 'shed',
      target: 'ssh-host',
      credentialId,
    });
    expect(launched.status).toBe(202);
    expect((await finishedDeployment(api, launched.body.deploymentId)).status).toBe('failed');
    const path = `/platforms/${launched.body.platform.id}/readings`;

    for (const limit of ['0', '101', '1.5', 'abc', '-3', '20;DROP']) {
      const bad = await api.get<ErrorBody>(`${path}?limit=${encodeURIComponent(limit)}`);
      expect(bad.status, limit).toBe(400);
      expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    }
    const extra = await api.get<ErrorBody>(`${path}?limit=5&query=SELECT`);
    expect(extra.status).toBe(400);

    const notRunning = await api.get<ErrorBody>(`${path}?limit=20`);
    expect(notRunning.status).toBe(409);
    expect(notRunning.body.error.code).toBe('NOT_RUNNING');
    expect((await api.get<ErrorBody>(path)).body.error.code).toBe('NOT_RUNNING');

    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival');
    expect((await rival.get<ErrorBody>(path)).status).toBe(404);
    expect((await rival.get<ErrorBody>('/platforms/not-a-uuid/readings')).status).toBe(400);
    expect((await new ApiClient(baseUrl).get<ErrorBody>(path)).status).toBe(401);
  });
});
