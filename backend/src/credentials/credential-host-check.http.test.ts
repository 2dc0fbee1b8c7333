import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, sshHostCredential, type ErrorBody } from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';
import { testDockerHost, testSshTarget } from '../provision/testing/test-ssh-host';

type Report = {
  ready: boolean;
  hostKeyFingerprint: string | null;
  checks: { name: string; status: string; message: string }[];
};

/** POST /credentials/:id/test against the private sshd of scripts/services/sshd.sh (no doubles). */
describe('POST /credentials/:id/test', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({
      env: { HOST_DOCKER_HOST: testDockerHost(), HOST_MANAGE_DOCKER_SERVICE: 'false' },
    }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('logs in with the key and reports sudo, OS, Python, Docker and disk one by one', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('tester');
    const host = testSshTarget();
    const created = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'test-host',
      host: host.host,
      port: host.port,
      username: host.username,
      auth: 'uploaded-key',
      privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
    });
    expect(created.status).toBe(201);

    const tested = await api.post<Report>(`/credentials/${created.body.id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body.hostKeyFingerprint).toBe(host.hostKeyFingerprint);
    const byName = Object.fromEntries(tested.body.checks.map((check) => [check.name, check]));
    expect(Object.keys(byName)).toEqual(['connection', 'sudo', 'os', 'python', 'docker', 'disk']);
    expect(byName.connection!.status).toBe('ok');
    expect(byName.sudo).toMatchObject({ status: 'ok', message: expect.stringMatching(/sudo/) });
    expect(byName.os!.message).toMatch(/\w/);
    expect(byName.python!.message).toMatch(/^Python 3\./);
    expect(byName.docker).toMatchObject({
      status: 'ok',
      message: expect.stringMatching(/Docker version .*; daemon \d+\.\d+/),
    });
    expect(byName.disk!.message).toMatch(/^\d+\.\d GiB free on \//);
    expect(tested.body.ready).toBe(true);
    expect(JSON.stringify(tested.body)).not.toContain('PRIVATE KEY');
  });

  it('reports a refused key and a closed port as a failed connection, not an error', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('refused');
    const host = testSshTarget();
    // The account's generated key is not in the test host's authorized_keys.
    const generated = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'not-authorized',
      host: host.host,
      port: host.port,
      username: host.username,
      auth: 'generated-key',
    });
    const refused = await api.post<Report>(`/credentials/${generated.body.id}/test`);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ ready: false, hostKeyFingerprint: null });
    expect(refused.body.checks).toEqual([
      expect.objectContaining({ name: 'connection', status: 'fail' }),
    ]);

    const closed = await sshHostCredential(api, await freeLoopbackPort(), 'closed');
    const unreachable = await api.post<Report>(`/credentials/${closed}/test`);
    expect(unreachable.body.ready).toBe(false);
    expect(unreachable.body.checks[0]!.message).toMatch(/ECONNREFUSED/);
  });

  it('refuses other credential types, other users and missing sessions', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('owner');
    const aws = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws',
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: 'aws-secret-for-the-test',
    });
    // A cloud credential has no host to log in to.
    expect((await api.post<ErrorBody>(`/credentials/${aws.body.id}/test`)).status).toBe(400);

    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival');
    expect((await rival.post<ErrorBody>(`/credentials/${aws.body.id}/test`)).status).toBe(404);
    expect((await rival.post<ErrorBody>('/credentials/nope/test')).status).toBe(400);
    expect((await new ApiClient(baseUrl).post(`/credentials/${aws.body.id}/test`)).status).toBe(
      401,
    );
  });
});
