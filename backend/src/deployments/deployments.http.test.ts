import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { readSse, type SseEvent } from '../../test/sse';
import { DeploymentLog } from './deployment-log';
import { DeploymentsService } from './deployments.service';

const PLATFORM_ID = '11111111-1111-4111-8111-111111111111';

describe('deployments and their live log (running API, SQLite, Redis)', () => {
  let app: INestApplication;
  let baseUrl: string;
  let deployments: DeploymentsService;
  let log: DeploymentLog;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp());
    deployments = app.get(DeploymentsService);
    log = app.get(DeploymentLog);
  });
  afterAll(async () => app?.close());

  const events = (api: ApiClient, id: string, lastEventId?: string) =>
    fetch(`${baseUrl}/api/v1/deployments/${id}/events`, {
      headers: {
        authorization: `Bearer ${api.accessToken}`,
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
    });

  it('streams stored and live log lines, resumes after Last-Event-ID, and ends with the deployment', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('deployer');
    const deployment = await deployments.create(
      userId,
      { kind: 'platform', id: PLATFORM_ID },
      'launch',
    );
    await deployments.startStep(deployment.id, 'provisioning_infra');
    await log.append(deployment.id, {
      step: 'provisioning_infra',
      message: 'aws_instance.platform: Creating...',
    });

    const response = await events(api, deployment.id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const received: SseEvent[] = [];
    const streamed = readSse(response, (event) => {
      received.push(event);
      // Once the stored lines are in, a worker writes more while the browser watches.
      if (event.event === 'status' && received.length === 3) {
        void (async () => {
          await log.append(deployment.id, {
            level: 'warn',
            message: 'slow host',
            data: { seconds: 42 },
          });
          await deployments.finish(deployment.id, 'succeeded');
        })();
      }
    });
    await streamed;

    expect(received.map((event) => [event.event, event.id])).toEqual([
      ['log', '1'],
      ['log', '2'],
      ['status', undefined],
      ['log', '3'],
      ['status', undefined],
      ['end', undefined],
    ]);
    expect(received[1]!.data).toMatchObject({
      message: 'aws_instance.platform: Creating...',
      step: 'provisioning_infra',
    });
    expect(received[3]!.data).toMatchObject({ level: 'warn', data: { seconds: 42 } });
    expect(received[4]!.data).toMatchObject({ status: 'succeeded' });

    const resumed: SseEvent[] = [];
    await readSse(await events(api, deployment.id, '2'), (event) => void resumed.push(event));
    expect(resumed.map((event) => event.id ?? event.event)).toEqual(['3', 'status', 'end']);

    const record = await api.get<{ status: string; step: string; finishedAt: string }>(
      `/deployments/${deployment.id}`,
    );
    expect(record.body).toMatchObject({ status: 'succeeded', step: 'provisioning_infra' });
    expect(record.body.finishedAt).toBeTruthy();
    const listed = await api.get<{ id: string }[]>(`/deployments?targetId=${PLATFORM_ID}`);
    expect(listed.body.map((item) => item.id)).toEqual([deployment.id]);
  });

  it('allows one active deployment per target; the next may start once it finished', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('single');
    const target = { kind: 'platform' as const, id: '22222222-2222-4222-8222-222222222222' };
    const first = await deployments.create(userId, target, 'launch');
    await expect(deployments.create(userId, target, 'destroy')).rejects.toMatchObject({
      status: 409,
      response: { error: { code: 'DEPLOYMENT_IN_PROGRESS', details: { deploymentId: first.id } } },
    });
    await deployments.finish(first.id, 'failed', 'Step configuring failed: task "Start the stack"');
    const second = await deployments.create(userId, target, 'destroy');
    expect(second.id).not.toBe(first.id);
    expect((await log.listAfter(first.id, 0)).map((line) => line.message)).toEqual([
      'Step configuring failed: task "Start the stack"',
    ]);
  });

  it('names the missing or malformed targetId when listing deployments', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('lister');
    for (const path of ['/deployments', '/deployments?targetId=greenhouse']) {
      const answer = await api.get<ErrorBody>(path);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/^The query parameter targetId is required: .*\.$/),
        details: [{ field: 'targetId' }],
      });
    }
  });

  it("answers 404 for another user's deployment and its log", async () => {
    const alice = new ApiClient(baseUrl);
    const bob = new ApiClient(baseUrl);
    const { userId } = await alice.signUp('alice');
    await bob.signUp('bob');
    const deployment = await deployments.create(
      userId,
      { kind: 'space', id: '33333333-3333-4333-8333-333333333333' },
      'launch',
    );
    await log.append(deployment.id, { message: 'a secretless but private line' });

    const record = await bob.get<ErrorBody>(`/deployments/${deployment.id}`);
    expect(record.status).toBe(404);
    expect(record.body.error.code).toBe('DEPLOYMENT_NOT_FOUND');
    const stream = await events(bob, deployment.id);
    expect(stream.status).toBe(404);
    expect(await stream.text()).not.toContain('private line');
    expect((await bob.get(`/deployments?targetId=${deployment.targetId}`)).body).toEqual([]);
  });
});
