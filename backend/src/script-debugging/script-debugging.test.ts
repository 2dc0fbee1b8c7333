import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import {
  createStackSpec,
  generateSecret,
  generateStackSecrets,
  type StackSpec,
} from '@fieldstation/platform-stack';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import type { AlertRuleDto } from '../alerts/dto/alert-rule.dto';
import { freeLoopbackPort } from '../common/free-port';
import { Device } from '../devices/device.entity';
import { NotificationDelivery } from '../notifications/notification-delivery.entity';
import { NotificationJobs } from '../notifications/notification-jobs';
import { PlatformHealthChecks } from '../platforms/platform-health';
import { Platform } from '../platforms/platform.entity';
import { amqpPublisher } from '../provision/testing/platform-probes';
import { testPlatformHost } from '../provision/testing/test-platform-host';
import { testDockerHost, testImages, testSshTarget } from '../provision/testing/test-ssh-host';
import type { DeadLettersDto, DryRunReportDto, ScriptLogDto } from './dto/script-debugging.dto';

const BROKEN = `export default function process(reading, ctx) {
  ctx.log('converting', { raw: reading.data.raw });
  if (reading.data.raw > 1000) throw new Error('raw out of range: ' + reading.data.raw);
  return { ...reading, data: { celsius: reading.data.raw / 10 } };
}
`;
const FIXED = `export default function process(reading) {
  return { ...reading, data: { celsius: Math.min(reading.data.raw, 1000) / 10, version: 2 } };
}
`;

/** Polls until `done` holds (every 500 ms, up to 2 minutes); the last value. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await delay(500);
  }
}

/**
 * Script debugging end to end: one platform (PostgreSQL) launched with the real playbooks on the
 * local SSH host, registered through the API and driven through it: the processor's script log,
 * the real dead-letter queue (list, replay, purge) and dry runs in the processor's sandbox.
 */
describe('script debugging on a launched platform (API, SSH, Docker, RabbitMQ, PostgreSQL)', () => {
  const { host, removeSnapshot } = testPlatformHost();
  const target = testSshTarget();
  let app: INestApplication;
  let api: ApiClient;
  let baseUrl: string;
  let platformId: string;
  let spec: StackSpec;
  let device: { port: number; username: string; password: string };
  let path: string;

  beforeAll(async () => {
    const images = testImages();
    ({ app, baseUrl } = await startTestApp({
      role: 'api',
      env: { HOST_DOCKER_HOST: testDockerHost() },
    }));
    api = new ApiClient(baseUrl);
    await api.signUp('debugger');
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'test-host',
      host: target.host,
      port: target.port,
      username: target.username,
      auth: 'uploaded-key',
      privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
    });
    expect(credential.status).toBe(201);
    // No worker runs in this app: the launch stays queued and is done below, with this id.
    const launched = await api.post<{ platform: { id: string } }>('/platforms', {
      name: 'debugging',
      target: 'ssh-host',
      credentialId: credential.body.id,
      database: 'postgres',
      tls: false,
    });
    expect(launched.status).toBe(202);
    platformId = launched.body.platform.id;
    path = `/platforms/${platformId}/processor`;

    const amqp = await freeLoopbackPort();
    const login = { name: 'sensor-1', password: generateSecret() };
    device = { port: amqp, username: login.name, password: login.password };
    spec = createStackSpec({
      address: '127.0.0.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
      deviceUsers: [login],
      ports: { amqp, mqtt: null, rabbitmqManagement: null, grafana: null },
      images: {
        rabbitmq: images.images.rabbitmq!,
        postgres: images.images.postgres!,
        grafana: images.images.grafana!,
        node: images.images.node!,
      },
      processor: { scriptSource: BROKEN },
    });
    const result = await host.launch({
      platformId,
      target,
      spec,
      images: { source: 'offline', archives: [images.archive] },
    });
    expect(result.totals).toMatchObject({ failures: 0, unreachable: 0 });
    const platforms = app.get(DataSource).getRepository(Platform);
    const registered = await platforms.findOneByOrFail({ id: platformId });
    await platforms.update(platformId, {
      status: 'running',
      address: target.host,
      hostKeyFingerprint: target.hostKeyFingerprint,
      ports: { ...registered.ports, amqp, amqps: null, mqtt: null, mqtts: null },
    });
  }, 900_000);

  afterAll(async () => {
    if (platformId) {
      await host
        .teardown({ platformId, target, removeData: true })
        .catch((error: unknown) => console.error(`teardown of ${platformId} failed:`, error));
    }
    removeSnapshot();
    await app?.close();
  }, 600_000);

  /** One round of the worker's health check (real: probes, SSH, the processor's status). */
  const healthCheck = async () =>
    app
      .get(PlatformHealthChecks)
      .checkRound(
        [await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id: platformId })],
        1,
      );

  it('a throwing script fills the dead letters (with reasons) and fires the dead-letter alert; dry runs show the broken and the fixed version; a fix plus replay stores them all; purge empties', async () => {
    await healthCheck();
    const publisher = await amqpPublisher(device);
    await publisher.publish('telemetry.room.sensor-1', { data: { raw: 215 } });
    for (let i = 0; i < 5; i++) {
      await publisher.publish('telemetry.room.sensor-1', { data: { raw: 2000 + i } });
    }
    await publisher.close();

    const listed = await until(
      'five dead letters',
      async () => (await api.get<DeadLettersDto>(`${path}/dead-letters`)).body,
      (body) => body.total === 5,
    );
    expect(listed.letters).toHaveLength(5);
    expect(listed.letters[0]).toMatchObject({
      stage: 'script',
      reason: 'script failed: raw out of range: 2000',
      measurement: 'room',
      device: 'sensor-1',
      bodyPreview: '{"data":{"raw":2000}}',
      replays: 0,
    });
    expect(listed.letters.map((letter) => letter.reason)).toEqual(
      [2000, 2001, 2002, 2003, 2004].map((raw) => `script failed: raw out of range: ${raw}`),
    );

    // The default rule "dead-letter rate above 0/min over 5 min" fires on the next check.
    await healthCheck();
    const rules = await api.get<{ kind: string; state: string; detail: string | null }[]>(
      `/platforms/${platformId}/alert-rules`,
    );
    expect(rules.body.find((rule) => rule.kind === 'dead-letter-rate')).toMatchObject({
      state: 'firing',
      detail: expect.stringMatching(/dead-lettered messages\/min over 5 min \(limit 0\)$/),
    });

    const log = await api.get<ScriptLogDto>(`${path}/log`);
    expect(log.status).toBe(200);
    const logged = log.body.lines.filter((line) => line.source === 'user-script');
    expect(logged.map((line) => [line.message, line.fields])).toEqual([
      ['converting', '{"raw":215}'],
      ...[2000, 2001, 2002, 2003, 2004].map((raw) => ['converting', `{"raw":${raw}}`]),
    ]);

    const broken = await api.post<DryRunReportDto>(`${path}/dry-run`, {
      scriptSource: BROKEN,
      from: 'dead-letters',
    });
    expect(broken.status).toBe(200);
    expect(broken.body.loadError).toBeNull();
    expect(broken.body.results.map((result) => result.error)).toEqual(
      listed.letters.map((letter) => letter.reason),
    );
    expect(broken.body.log.filter((line) => line.message === 'converting')).toHaveLength(5);
    const fixed = await api.post<DryRunReportDto>(`${path}/dry-run`, {
      scriptSource: FIXED,
      from: 'dead-letters',
    });
    expect(fixed.body.results.map((result) => [result.error, result.outputs?.[0]?.data])).toEqual(
      Array(5).fill([null, { celsius: 100, version: 2 }]),
    );
    const onStored = await api.post<DryRunReportDto>(`${path}/dry-run`, {
      scriptSource: FIXED,
      from: 'readings',
    });
    expect(onStored.body.results).toEqual([
      expect.objectContaining({
        input: expect.objectContaining({ device: 'sensor-1', data: { celsius: 21.5 } }),
        // Stored readings are the script's outputs ({celsius}); the fixed script finds no raw there.
        outputs: [expect.objectContaining({ data: expect.objectContaining({ version: 2 }) })],
        error: null,
      }),
    ]);
    // Dry runs deploy nothing and take nothing away.
    expect((await api.get<DeadLettersDto>(`${path}/dead-letters`)).body.total).toBe(5);

    const typo = await api.post<ErrorBody>(`${path}/dry-run`, {
      scriptSource: 'export default function process(reading {',
      from: 'readings',
    });
    expect(typo.status).toBe(400);
    expect(typo.body.error.code).toBe('INVALID_SCRIPT');
    for (const body of [
      { scriptSource: FIXED, from: 'everything' },
      { scriptSource: 42, from: 'readings' },
      { scriptSource: FIXED, from: 'readings', deploy: true },
    ]) {
      expect((await api.post<ErrorBody>(`${path}/dry-run`, body)).status).toBe(400);
    }

    const update = await host.updateProcessor({
      platformId,
      target,
      spec: { ...spec, processor: { ...spec.processor, scriptSource: FIXED } },
    });
    expect(update.totals).toMatchObject({ failures: 0, unreachable: 0 });
    const replay = await api.post<{ replayed: number }>(`${path}/dead-letters/replay`, {});
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ replayed: 5 });
    const stored = await until(
      'the five replayed readings stored',
      async () =>
        (
          await api.get<{ device: string; data: { version?: number } }[]>(
            `/platforms/${platformId}/readings?limit=100`,
          )
        ).body.filter((reading) => reading.data.version === 2),
      (readings) => readings.length >= 5,
    );
    expect(stored.map((reading) => reading.device)).toEqual(Array(5).fill('sensor-1'));
    expect((await api.get<DeadLettersDto>(`${path}/dead-letters`)).body.total).toBe(0);

    const garbled = await amqpPublisher(device);
    await garbled.publish('telemetry.room.sensor-1', 'not an object');
    await garbled.close();
    await until(
      'one dead letter',
      async () => (await api.get<DeadLettersDto>(`${path}/dead-letters`)).body,
      (body) => body.total === 1,
    );
    const purge = await api.post<{ purged: number }>(`${path}/dead-letters/purge`, {});
    expect(purge.body).toEqual({ purged: 1 });
    expect((await api.get<DeadLettersDto>(`${path}/dead-letters`)).body).toEqual({
      total: 0,
      letters: [],
    });
  }, 600_000);

  it("another user's platform is 404, a stopped processor 409", async () => {
    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival');
    for (const [method, route] of [
      ['get', 'log'],
      ['get', 'dead-letters'],
      ['post', 'dead-letters/replay'],
      ['post', 'dead-letters/purge'],
    ] as const) {
      const answer =
        method === 'get'
          ? await rival.get<ErrorBody>(`${path}/${route}`)
          : await rival.post<ErrorBody>(`${path}/${route}`, {});
      expect(answer.status, route).toBe(404);
    }
    await app.get(DataSource).getRepository(Platform).update(platformId, { status: 'updating' });
    const changing = await api.post<ErrorBody>(`${path}/dead-letters/purge`, {});
    expect(changing.status).toBe(409);
    expect(changing.body.error.code).toBe('NOT_RUNNING');
    await app.get(DataSource).getRepository(Platform).update(platformId, { status: 'running' });
  });

  it('a device-silent rule of 1 min fires once when the device stops and resolves once when it sends again, each a webhook', async () => {
    const data = app.get(DataSource);
    const platform = await data.getRepository(Platform).findOneByOrFail({ id: platformId });
    // The launch spec made the broker login; the registry gets its record as a launch would.
    await data.getRepository(Device).insert({
      id: randomUUID(),
      userId: platform.userId,
      platformId,
      name: 'sensor-1',
      activeName: `${platformId}:sensor-1`,
      labels: {},
      metadata: {},
      authKind: 'password',
      legacyFanout: false,
      password: null,
      passwordRevealedAt: null,
      certificatePem: null,
      certificateExpiresAt: null,
      rotatedAt: null,
      revokedAt: null,
    });
    const received: { type: string; title: string; at: number }[] = [];
    const receiver: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const payload = JSON.parse(body) as { type: string; data: { title: string } };
        received.push({ type: payload.type, title: payload.data.title, at: Date.now() });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as { port: number }).port;
      const channel = await api.post<{ channel: { id: string } }>('/notification-channels', {
        name: 'silence hook',
        kind: 'webhook',
        url: `http://127.0.0.1:${port}/silence`,
      });
      expect(channel.status).toBe(201);
      const created = await api.post<AlertRuleDto>(`/platforms/${platformId}/alert-rules`, {
        kind: 'device-silent',
        minutes: 1,
        device: 'sensor-1',
      });
      expect(created.status).toBe(201);
      const ruleState = async () =>
        (await api.get<AlertRuleDto[]>(`/platforms/${platformId}/alert-rules`)).body.find(
          (rule) => rule.id === created.body.id,
        )!;
      // No worker runs here: the delivery jobs the monitor queued are run by hand, as checks are.
      const deliverPending = async () => {
        const pending = await data
          .getRepository(NotificationDelivery)
          .findBy({ channelId: channel.body.channel.id, status: 'pending' });
        for (const delivery of pending) {
          await app.get(NotificationJobs).deliver({ deliveryId: delivery.id });
        }
      };
      const silenceHooks = () => received.filter((hook) => hook.title.includes('device-silent'));
      const publishOne = async (raw: number) => {
        const publisher = await amqpPublisher(device);
        await publisher.publish('telemetry.room.sensor-1', { data: { raw } });
        await publisher.close();
        return until(
          `the processor counting reading ${raw}`,
          () => host.processorDevices({ platformId, target }),
          (figures) =>
            figures?.['sensor-1'] !== undefined &&
            Date.parse(figures['sensor-1'].lastReadingAt) > Date.now() - 30_000,
        );
      };

      const sent = await publishOne(311);
      const lastReadingAt = Date.parse(sent!['sensor-1']!.lastReadingAt);
      await healthCheck();
      expect(await ruleState()).toMatchObject({ state: 'ok', detail: '1 devices reporting' });

      // Checks every few seconds (each one is real: SSH, docker exec, the processor's figures).
      const firing = await until(
        'the rule firing',
        async () => {
          await healthCheck();
          return ruleState();
        },
        (rule) => rule.state === 'firing',
      );
      const firedAt = Date.now();
      expect(firing.detail).toBe('Silent for 1 min or more: sensor-1');
      expect(firedAt - lastReadingAt).toBeGreaterThanOrEqual(60_000);
      await deliverPending();
      await healthCheck();
      await healthCheck();
      await deliverPending();
      expect(silenceHooks().map((hook) => hook.type)).toEqual(['alert.fired']);
      console.log(
        `device-silent (1 min): last reading to fired ${((firedAt - lastReadingAt) / 1000).toFixed(1)} s, ` +
          `to webhook received ${((silenceHooks()[0]!.at - lastReadingAt) / 1000).toFixed(1)} s`,
      );

      await publishOne(312);
      await healthCheck();
      expect(await ruleState()).toMatchObject({ state: 'ok', detail: '1 devices reporting' });
      await deliverPending();
      await healthCheck();
      await deliverPending();
      expect(silenceHooks().map((hook) => hook.type)).toEqual(['alert.fired', 'alert.resolved']);
    } finally {
      receiver.close();
    }
  }, 600_000);
});
