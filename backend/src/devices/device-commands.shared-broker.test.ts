import type { INestApplication } from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../../test/shared-broker-platform';
import { Platform } from '../platforms/platform.entity';

type DeviceWithPassword = { device: { name: string }; password: string };
type CommandSent = { topic: string; routingKey: string; bytes: number; routed: boolean };
type Received = { topic: string; payload: string; qos: number };

/**
 * Commands (issue 14 item 6) against a real RabbitMQ with its MQTT plugin: the shared test broker
 * stands in for a platform's, reached over SSH and the management API as a launched platform's is
 * (test/shared-broker-platform.ts). Devices get the real least-privilege permissions.
 */
describe('Device commands on a real broker (shared test RabbitMQ over SSH)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  let platformId: string;
  const created: string[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const started = await startTestApp({ role: 'api' });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('commander');
    const platform = await sharedBrokerPlatform(app, api);
    broker = platform.broker;
    platformId = platform.platformId;
    devices = `/platforms/${platformId}/devices`;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    // Broker users and session queues are global on the shared broker: leave none behind.
    for (const name of created) {
      await broker?.api('DELETE', `/users/${name}`);
      await broker?.api('DELETE', `/queues/%2F/mqtt-subscription-${name}qos1`);
    }
    await app?.close();
  });

  async function newDevice(prefix: string): Promise<{ name: string; password: string }> {
    const name = uniqueDeviceName(prefix);
    created.push(name);
    const answer = await api.post<DeviceWithPassword>(devices, { name });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return { name, password: answer.body.password };
  }

  /** The device's MQTT session (client id = its name); `clean: false` keeps it while offline. */
  async function connect(device: { name: string; password: string }, clean: boolean) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.mqttPort}`, {
      username: device.name,
      password: device.password,
      clientId: device.name,
      clean,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    clients.push(client);
    // Listening before the CONNACK: a resumed session's queued commands follow it at once.
    const received: Received[] = [];
    client.on('message', (topic, payload, packet) =>
      received.push({ topic, payload: payload.toString('utf8'), qos: packet.qos }),
    );
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return { client, received };
  }

  /** Waits until `received` holds `count` messages (the event, not a sleep). */
  async function messages(client: MqttClient, received: Received[], count: number) {
    const deadline = Date.now() + 10_000;
    while (received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || !client.connected) {
        throw new Error(`${received.length} of ${count} commands arrived`);
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        client.once('message', () => resolve(clearTimeout(timer)));
        client.once('close', () => resolve(clearTimeout(timer)));
      });
    }
    return received;
  }

  const send = (name: string, body: unknown) =>
    api.post<CommandSent | ErrorBody>(`${devices}/${name}/commands`, body);

  it('reaches the device it names and no other; another device cannot subscribe to it', async () => {
    const [a, b] = [await newDevice('cmd-a'), await newDevice('cmd-b')];
    const deviceA = await connect(a, true);
    const deviceB = await connect(b, true);
    await deviceA.client.subscribeAsync(`commands/${a.name}/#`, { qos: 1 });
    await deviceB.client.subscribeAsync(`commands/${b.name}/#`, { qos: 1 });
    // B asking for A's commands is refused by the broker's topic permission.
    const snooping = await deviceB.client.subscribeAsync(`commands/${a.name}/#`, { qos: 1 }).then(
      (granted) => granted.map(({ qos }) => qos),
      (error: Error) => error.message,
    );
    expect(snooping).not.toEqual([1]);
    expect(snooping).not.toEqual([0]);
    const snooper = deviceB.client.connected ? deviceB : await connect(b, true);
    if (snooper !== deviceB) {
      await snooper.client.subscribeAsync(`commands/${b.name}/#`, { qos: 1 });
    }

    const sent = await send(a.name, { payload: { action: 'open-valve', valve: 2 } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body).toMatchObject({
      topic: `commands/${a.name}`,
      routingKey: `commands.${a.name}`,
      routed: true,
    });
    const [command] = await messages(deviceA.client, deviceA.received, 1);
    expect(command).toEqual({
      topic: `commands/${a.name}`,
      payload: '{"action":"open-valve","valve":2}',
      qos: 1,
    });

    // B's own command arrives; A's never did (B's queue took only commands.<b>).
    expect((await send(b.name, { payload: 'for b' })).status).toBe(200);
    await messages(snooper.client, snooper.received, 1);
    expect(snooper.received).toEqual([{ topic: `commands/${b.name}`, payload: 'for b', qos: 1 }]);
    expect(deviceA.received).toHaveLength(1);

    // Audited, without the payload.
    const audit =
      await api.get<{ type: string; details: Record<string, string> }[]>('/audit-events');
    const events = audit.body.filter(({ type }) => type === 'device_command_sent');
    expect(events.map(({ details }) => details.device).sort()).toEqual([a.name, b.name].sort());
    expect(JSON.stringify(events)).not.toContain('open-valve');
  });

  it('keeps a command for a device with a persistent session while it is offline', async () => {
    const a = await newDevice('cmd-offline');
    const first = await connect(a, false);
    await first.client.subscribeAsync(`commands/${a.name}/#`, { qos: 1 });
    await first.client.endAsync();

    const sent = await send(a.name, { payload: 'reboot' });
    expect(sent.status).toBe(200);
    expect((sent.body as CommandSent).routed).toBe(true);

    const back = await connect(a, false);
    const [command] = await messages(back.client, back.received, 1);
    expect(command).toEqual({ topic: `commands/${a.name}`, payload: 'reboot', qos: 1 });
  });

  it('answers routed false when no session of the device can take it', async () => {
    const a = await newDevice('cmd-nobody');
    const sent = await send(a.name, { payload: 'lost' });
    expect(sent.status).toBe(200);
    expect((sent.body as CommandSent).routed).toBe(false);
  });

  it('refuses a payload over 64 KB (413), an unknown (404) or revoked device (409), and a platform that is not running (409)', async () => {
    const a = await newDevice('cmd-refused');
    const tooLarge = await send(a.name, { payload: 'x'.repeat(64 * 1024 + 1) });
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.body as ErrorBody).error.code).toBe('COMMAND_TOO_LARGE');
    expect((await send(a.name, { payload: 'x'.repeat(64 * 1024) })).status).toBe(200);
    const missing = await send(a.name, {});
    expect(missing.status).toBe(400);

    const unknown = await send('no-such-device', { payload: 'x' });
    expect(unknown.status).toBe(404);
    expect((unknown.body as ErrorBody).error.code).toBe('DEVICE_NOT_FOUND');

    const platforms = app.get(DataSource).getRepository(Platform);
    await platforms.update(platformId, { status: 'failed' });
    try {
      const stopped = await send(a.name, { payload: 'x' });
      expect(stopped.status).toBe(409);
      expect((stopped.body as ErrorBody).error.code).toBe('PLATFORM_NOT_RUNNING');
    } finally {
      await platforms.update(platformId, { status: 'running' });
    }

    expect((await api.delete(`${devices}/${a.name}`)).status).toBe(200);
    const revoked = await send(a.name, { payload: 'x' });
    expect(revoked.status).toBe(409);
    expect((revoked.body as ErrorBody).error.code).toBe('DEVICE_REVOKED');
  });

  it('refuses retain (400 RETAIN_NOT_SUPPORTED, nothing sent): the broker keeps no command published on amq.topic for a later subscriber', async () => {
    const a = await newDevice('cmd-retain');
    const refused = await send(a.name, { payload: 'retained?', retain: true });
    expect(refused.status).toBe(400);
    expect((refused.body as ErrorBody).error.code).toBe('RETAIN_NOT_SUPPORTED');
    expect((await send(a.name, { payload: 'x', retain: 'yes' })).status).toBe(400);

    // Why: a command sent while nobody listens is not kept for a subscriber that comes later.
    // The first message a later subscription gets is the next command, not the earlier one.
    const early = await send(a.name, { payload: 'before anyone subscribed', retain: false });
    expect(early.status).toBe(200);
    expect((early.body as CommandSent).routed).toBe(false);
    const device = await connect(a, true);
    await device.client.subscribeAsync(`commands/${a.name}/#`, { qos: 1 });
    expect((await send(a.name, { payload: 'after' })).status).toBe(200);
    const [first] = await messages(device.client, device.received, 1);
    expect(first).toEqual({ topic: `commands/${a.name}`, payload: 'after', qos: 1 });

    const audit =
      await api.get<{ type: string; details: Record<string, string> }[]>('/audit-events');
    const sent = audit.body.filter(
      ({ type, details }) => type === 'device_command_sent' && details.device === a.name,
    );
    expect(sent).toHaveLength(2);
  });
});
