import type { INestApplication } from '@nestjs/common';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destroyLaunched,
  launchOnTestHost,
  type LaunchedPlatform,
} from '../../test/launched-platform';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { waitFor as waitUntil } from '../../test/test-env';
import { freeLoopbackPort } from '../common/free-port';
import { type DeviceLogin, PlatformProbe, waitFor } from '../provision/testing/platform-probes';
import { sharedBrokerPlatform, uniqueDeviceName } from '../../test/shared-broker-platform';
import {
  type DeviceWithPassword,
  firstMqttLogin,
  reading,
  TAKES_EFFECT_MS,
} from './testing/device-logins';

/**
 * Fleet figures, commands and copy-from against a real platform launched once through the API on
 * the local SSH host (private sshd and dockerd, stand-in images): the processor's per-device
 * figures, commands through the management API over SSH to MQTT sessions, and another platform's
 * devices (the shared test broker's, test/shared-broker-platform.ts) copied onto it.
 */
describe('Fleet figures, commands and copy-from on a running platform (real broker over SSH)', () => {
  let launched: LaunchedPlatform | undefined;
  let app: INestApplication;
  let api: ApiClient;
  let devices: string;
  let probe: PlatformProbe;
  let mqttPort: number;
  let amqpPort: number;

  beforeAll(async () => {
    [amqpPort, mqttPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    launched = await launchOnTestHost('fleet-live', {
      name: 'fleet-live',
      database: 'postgres',
      deviceUsers: ['keeper'],
      tls: false,
      ports: {
        amqp: amqpPort,
        mqtt: mqttPort,
        rabbitmqManagement: await freeLoopbackPort(),
        grafana: null,
      },
    });
    ({ app, api, devices, probe } = launched);
    // The launch device's password: revealed once (the connection answer names devices only).
    const revealed = await api.post<DeviceWithPassword>(`${devices}/keeper/reveal-password`);
    expect(revealed.status).toBe(200);
    expect(revealed.body.password).toBeTruthy();
  }, 960_000);

  afterAll(async () => destroyLaunched(launched), 360_000);

  const login = (name: string, password: string, port = mqttPort): DeviceLogin => ({
    port,
    username: name,
    password,
  });

  type Listed = {
    name: string;
    online: boolean | null;
    lastReadingAt: string | null;
    readingsLastHour: number | null;
    lastSeenAt: string | null;
  };
  const listed = async (query = '') => {
    const answer = await api.get<Listed[]>(`${devices}${query}`);
    expect(answer.status).toBe(200);
    return answer.body;
  };

  it('shows each device’s last reading and readings of the last hour; silent filter and last-seen order', async () => {
    const created = await api.post<DeviceWithPassword>(devices, { name: 'pi-busy' });
    expect(created.status).toBe(201);
    // Known (not null) once the processor answers; nothing stored yet.
    const before = await waitUntil(
      async () => {
        const device = (await listed()).find(({ name }) => name === 'pi-busy');
        return device?.readingsLastHour === null ? undefined : device;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the figures of pi-busy' },
    );
    expect(before).toMatchObject({ lastReadingAt: null, readingsLastHour: 0 });
    const { client } = await firstMqttLogin(
      login('pi-busy', created.body.password),
      Date.now() + TAKES_EFFECT_MS,
    );
    const sentAt = Date.now();
    for (let seq = 1; seq <= 3; seq++) {
      await client.publishAsync(
        'telemetry/room/pi-busy',
        JSON.stringify(reading('pi-busy', seq, 'mqtt')),
        {
          qos: 1,
        },
      );
    }
    await client.endAsync();
    const busy = await waitUntil(
      async () => {
        const device = (await listed()).find(({ name }) => name === 'pi-busy');
        return device?.readingsLastHour === 3 ? device : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the figures of pi-busy' },
    );
    expect(new Date(busy.lastReadingAt!).getTime()).toBeGreaterThanOrEqual(sentAt);
    // The keeper (enrolled at launch) never sent: silent since its creation, once a minute has
    // passed since then (a launch on a quiet machine takes less)…
    const silent = await waitUntil(
      async () => {
        const names = (await listed('?silentForMinutes=1')).map(({ name }) => name);
        return names.includes('keeper') ? names : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'the keeper silent for a minute' },
    );
    expect(silent).not.toContain('pi-busy');
    // …and the most recently seen device comes first.
    expect((await listed('?sort=lastSeen'))[0]!.name).toBe('pi-busy');
    expect((await api.get<ErrorBody>(`${devices}?silentForMinutes=0`)).status).toBe(400);
  });

  it('delivers a command to A and not B, and to A’s persistent session after it reconnects', async () => {
    const [a, b] = [
      await api.post<DeviceWithPassword>(devices, { name: 'pi-cmd-a' }),
      await api.post<DeviceWithPassword>(devices, { name: 'pi-cmd-b' }),
    ];
    const session = (name: string, password: string) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
        username: name,
        password,
        clientId: name,
        clean: false,
        reconnectPeriod: 0,
      });
      const received: string[] = [];
      client.on('message', (_topic, payload) => received.push(payload.toString('utf8')));
      return new Promise<{ client: typeof client; received: string[] }>((resolve, reject) => {
        client.once('connect', () => resolve({ client, received }));
        client.once('error', reject);
      });
    };
    const deviceA = await session('pi-cmd-a', a.body.password);
    const deviceB = await session('pi-cmd-b', b.body.password);
    await deviceA.client.subscribeAsync('commands/pi-cmd-a/#', { qos: 1 });
    await deviceB.client.subscribeAsync('commands/pi-cmd-b/#', { qos: 1 });
    const sent = await api.post<{ routed: boolean }>(`${devices}/pi-cmd-a/commands`, {
      payload: { action: 'open' },
    });
    expect(sent.status).toBe(200);
    expect(sent.body.routed).toBe(true);
    await waitUntil(async () => (deviceA.received.length === 1 ? deviceA.received : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the command at A',
    });
    expect(deviceA.received).toEqual(['{"action":"open"}']);
    // B's own command arrives after A's was published; A's never reached B.
    await api.post(`${devices}/pi-cmd-b/commands`, { payload: 'for b' });
    await waitUntil(async () => (deviceB.received.length === 1 ? deviceB.received : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the command at B',
    });
    expect(deviceB.received).toEqual(['for b']);
    await deviceB.client.endAsync();

    // A goes offline; its session (clean off, QoS 1) keeps what is sent meanwhile.
    await deviceA.client.endAsync();
    expect(
      (
        await api.post<{ routed: boolean }>(`${devices}/pi-cmd-a/commands`, {
          payload: 'while away',
        })
      ).body.routed,
    ).toBe(true);
    const back = await session('pi-cmd-a', a.body.password);
    await waitUntil(async () => (back.received.length === 1 ? back.received : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the kept command',
    });
    expect(back.received).toEqual(['while away']);
    await back.client.endAsync();
  });

  it('copies another platform’s devices with the same passwords: they log in and publish here', async () => {
    const source = await sharedBrokerPlatform(app, api);
    const traveller = uniqueDeviceName('pi-travel');
    const made = await api.post<DeviceWithPassword>(`/platforms/${source.platformId}/devices`, {
      name: traveller,
      labels: { site: 'south' },
    });
    expect(made.status).toBe(201);
    try {
      const copied = await api.post<{
        copied: { name: string; labels: object }[];
        skipped: string[];
      }>(`${devices}/copy-from/${source.platformId}`);
      expect(copied.status).toBe(200);
      const names = copied.body.copied.map(({ name }) => name);
      expect(names).toContain(traveller);
      expect(copied.body.copied.find(({ name }) => name === traveller)).toMatchObject({
        labels: { site: 'south' },
      });
      expect(copied.body.skipped).toEqual([]);
      // The same password opens the copied device on this platform's broker at once.
      const { client } = await firstMqttLogin(
        login(traveller, made.body.password),
        Date.now() + TAKES_EFFECT_MS,
      );
      await client.publishAsync(
        `telemetry/room/${traveller}`,
        JSON.stringify(reading(traveller, 1, 'mqtt')),
        { qos: 1 },
      );
      await client.endAsync();
      await waitFor(
        `the reading of ${traveller}`,
        () => probe.readings('postgres').filter((row) => row.device === traveller),
        (rows) => rows.length === 1,
        30_000,
      );
      // Copying again skips what is here already.
      const again = await api.post<{ copied: unknown[]; skipped: string[] }>(
        `${devices}/copy-from/${source.platformId}`,
      );
      expect(again.body).toEqual({ copied: [], skipped: names });
    } finally {
      await source.broker.api('DELETE', `/users/${traveller}`);
    }
  });
});
