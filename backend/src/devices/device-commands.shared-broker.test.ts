import type { INestApplication } from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';
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
    // Broker users, session queues and retained messages are global on the shared broker: leave
    // none behind (a test that failed half-way may have left a retained command).
    if (broker && created.length > 0) {
      const admin = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.mqttPort}`, {
        username: process.env.FS_TEST_MQTT_USERNAME,
        password: process.env.FS_TEST_MQTT_PASSWORD,
        reconnectPeriod: 0,
      });
      for (const name of created) {
        await admin.publishAsync(`commands/${name}`, '', { qos: 1, retain: true });
      }
      await admin.endAsync();
    }
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

  /** A new clean session of the device subscribed to its exact command topic (retained ones come). */
  async function subscribeFresh(device: { name: string; password: string }) {
    const session = await connect(device, true);
    const retainFlags: boolean[] = [];
    session.client.on('message', (_topic, _payload, packet) => retainFlags.push(packet.retain));
    await session.client.subscribeAsync(`commands/${device.name}`, { qos: 1 });
    return { ...session, retainFlags };
  }

  /** The first message a fresh subscription gets: a plain command sent after it proves none came before. */
  async function firstMessageOfFreshSubscription(device: { name: string; password: string }) {
    const session = await subscribeFresh(device);
    const marker = `plain after subscribing ${Date.now()}`;
    expect((await send(device.name, { payload: marker })).status).toBe(200);
    const received = await messages(session.client, session.received, 1);
    await session.client.endAsync();
    return { first: received[0]!.payload, retained: session.retainFlags[0], marker };
  }

  const auditOf = async (type: string, device: string) =>
    (
      await api.get<{ type: string; details: Record<string, string> }[]>('/audit-events')
    ).body.filter((event) => event.type === type && event.details.device === device);

  it('retains a command for a subscription that comes later (A only), replaces it, and clears it', async () => {
    const [a, b] = [await newDevice('cmd-retain-a'), await newDevice('cmd-retain-b')];
    // Sent while nobody listens: kept by the broker, not lost.
    const sent = await send(a.name, { payload: { setpoint: 21 }, retain: true });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body).toMatchObject({
      topic: `commands/${a.name}`,
      retained: true,
      routed: null,
      bytes: 15,
    });

    // A's new clean session gets it first, flagged retained, before anything sent later.
    const later = await firstMessageOfFreshSubscription(a);
    expect(later.first).toBe('{"setpoint":21}');
    expect(later.retained).toBe(true);
    // Again for the next subscription: the broker keeps it.
    expect((await firstMessageOfFreshSubscription(a)).first).toBe('{"setpoint":21}');

    // B's subscription never gets A's retained command: its first message is its own plain one.
    const ofB = await firstMessageOfFreshSubscription(b);
    expect(ofB.first).toBe(ofB.marker);

    // A second retained command replaces the first.
    expect((await send(a.name, { payload: 'setpoint 22', retain: true })).status).toBe(200);
    expect((await firstMessageOfFreshSubscription(a)).first).toBe('setpoint 22');

    // Cleared: a new subscription gets nothing retained.
    const cleared = await api.delete<{ device: string; topic: string } | ErrorBody>(
      `${devices}/${a.name}/commands/retained`,
    );
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body).toMatchObject({ device: a.name, topic: `commands/${a.name}` });
    const afterClear = await firstMessageOfFreshSubscription(a);
    expect(afterClear.first).toBe(afterClear.marker);

    // Audited without the payload: two retained sends, one clear.
    const sentEvents = await auditOf('device_command_sent', a.name);
    expect(sentEvents.filter(({ details }) => details.retained === 'true')).toHaveLength(2);
    expect(JSON.stringify(sentEvents)).not.toContain('setpoint');
    expect(await auditOf('device_retained_command_cleared', a.name)).toHaveLength(1);
  });

  /** A new device of a revoked device's name: its first subscription gets no old command. */
  const expectNoOldCommandWhenCreatedAgain = async (name: string) => {
    const again = await api.post<DeviceWithPassword>(devices, { name });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const renewed = await firstMessageOfFreshSubscription({ name, password: again.body.password });
    expect(renewed.first).toBe(renewed.marker);
  };

  it('a revoked device leaves no retained command for a new device of the same name', async () => {
    const a = await newDevice('cmd-retain-revoked');
    expect((await send(a.name, { payload: 'old owner', retain: true })).status).toBe(200);
    expect((await api.delete(`${devices}/${a.name}`)).status).toBe(200);

    await expectNoOldCommandWhenCreatedAgain(a.name);
  });

  it("a revoke whose retained clear fails still revokes; creating the name again clears the old device's command first", async () => {
    const a = await newDevice('cmd-retain-unclear');
    expect((await send(a.name, { payload: 'old owner', retain: true })).status).toBe(200);
    const platforms = app.get(DataSource).getRepository(Platform);
    const { ports } = await platforms.findOneByOrFail({ id: platformId });
    try {
      // The MQTT listener unreachable: the revoke's clear fails, the revoke does not.
      await platforms.update(platformId, { ports: { ...ports, mqtt: await freeLoopbackPort() } });
      expect((await api.delete(`${devices}/${a.name}`)).status).toBe(200);
    } finally {
      await platforms.update(platformId, { ports });
    }
    expect((await broker.api('GET', `/users/${a.name}`)).status).toBe(404);

    await expectNoOldCommandWhenCreatedAgain(a.name);
  });

  it('refuses a retained command over 64 KB (413), an empty one (400), a non-boolean retain (400); 409 without an MQTT listener, 502 with the reason when the listener cannot be reached', async () => {
    const a = await newDevice('cmd-retain-refused');
    const tooLarge = await send(a.name, { payload: 'x'.repeat(64 * 1024 + 1), retain: true });
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.body as ErrorBody).error.code).toBe('COMMAND_TOO_LARGE');
    const empty = await send(a.name, { payload: '', retain: true });
    expect(empty.status).toBe(400);
    expect((await send(a.name, { payload: 'x', retain: 'yes' })).status).toBe(400);

    const platforms = app.get(DataSource).getRepository(Platform);
    const { ports } = await platforms.findOneByOrFail({ id: platformId });
    try {
      await platforms.update(platformId, { ports: { ...ports, mqtt: null, mqtts: null } });
      const noListener = await send(a.name, { payload: 'x', retain: true });
      expect(noListener.status).toBe(409);
      expect((noListener.body as ErrorBody).error.code).toBe('MQTT_LISTENER_UNAVAILABLE');
      const noClear = await api.delete<ErrorBody>(`${devices}/${a.name}/commands/retained`);
      expect(noClear.status).toBe(409);

      await platforms.update(platformId, { ports: { ...ports, mqtt: await freeLoopbackPort() } });
      const unreachable = await send(a.name, { payload: 'x', retain: true });
      expect(unreachable.status).toBe(502);
      expect((unreachable.body as ErrorBody).error.code).toBe('BROKER_CHANGE_FAILED');
      expect((unreachable.body as ErrorBody).error.message).toMatch(
        /MQTT publish failed: no tunnel/,
      );
    } finally {
      await platforms.update(platformId, { ports });
    }
    // Nothing of the refused ones was sent or audited.
    expect(await auditOf('device_command_sent', a.name)).toHaveLength(0);
    const early = await firstMessageOfFreshSubscription(a);
    expect(early.first).toBe(early.marker);
  });

  it('a plain command (retain false) is still not kept for a later subscriber', async () => {
    const a = await newDevice('cmd-not-retained');
    const early = await send(a.name, { payload: 'before anyone subscribed', retain: false });
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ routed: false, retained: false });
    const later = await firstMessageOfFreshSubscription(a);
    expect(later.first).toBe(later.marker);
  });
});
