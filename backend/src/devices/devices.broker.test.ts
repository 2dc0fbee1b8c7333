import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destroyLaunched,
  launchOnTestHost,
  type LaunchedPlatform,
} from '../../test/launched-platform';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { freeLoopbackPort } from '../common/free-port';
import { Platform } from '../platforms/platform.entity';
import {
  amqpPublisher,
  type DeviceLogin,
  PlatformProbe,
  waitFor,
} from '../provision/testing/platform-probes';
import {
  connectMqtt,
  type DeviceWithPassword,
  firstMqttLogin,
  reading,
  TAKES_EFFECT_MS,
} from './testing/device-logins';

/**
 * The device registry against a real platform: launched once through the API on the local SSH
 * host (private sshd and dockerd, stand-in images), its broker changed at runtime through the
 * management API over SSH. Prints the measured add/rotate/revoke latencies.
 */
describe('Devices on a running platform (real broker over SSH)', () => {
  let launched: LaunchedPlatform | undefined;
  let app: INestApplication;
  let api: ApiClient;
  let platformId: string;
  let devices: string;
  let probe: PlatformProbe;
  let mqttPort: number;
  let amqpPort: number;
  let keeperPassword: string;
  const latencies: Record<string, number> = {};

  beforeAll(async () => {
    [amqpPort, mqttPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    launched = await launchOnTestHost('fleet', {
      name: 'fleet',
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
    ({ app, api, platformId, devices, probe } = launched);
    // The launch device's password: revealed once (the connection answer names devices only).
    const revealed = await api.post<DeviceWithPassword>(`${devices}/keeper/reveal-password`);
    expect(revealed.status).toBe(200);
    keeperPassword = revealed.body.password;
  }, 960_000);

  afterAll(async () => {
    console.log(`device change latencies (ms): ${JSON.stringify(latencies)}`);
    await destroyLaunched(launched);
  }, 360_000);

  const login = (name: string, password: string, port = mqttPort): DeviceLogin => ({
    port,
    username: name,
    password,
  });

  it('adds a device that publishes over MQTT and AMQP within 5 s, stored under its name', async () => {
    const started = Date.now();
    const created = await api.post<DeviceWithPassword>(devices, {
      name: 'pi-add',
      labels: { site: 'north' },
    });
    expect(created.status).toBe(201);
    expect(created.body.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const { client, at } = await firstMqttLogin(
      login('pi-add', created.body.password),
      started + TAKES_EFFECT_MS,
    );
    latencies.add = at - started;
    expect(latencies.add).toBeLessThan(TAKES_EFFECT_MS);
    await client.publishAsync(
      'telemetry/room/pi-add',
      JSON.stringify(reading('pi-add', 1, 'mqtt')),
      {
        qos: 1,
      },
    );
    await client.endAsync();
    const amqp = await amqpPublisher(login('pi-add', created.body.password, amqpPort));
    await amqp.publish('telemetry.room.pi-add', reading('pi-add', 2, 'amqp'));
    await amqp.close();
    const stored = await waitFor(
      'both readings of pi-add',
      () => probe.readings('postgres').filter((row) => row.device === 'pi-add'),
      (rows) => rows.length === 2,
      30_000,
    );
    expect(stored.map((row) => row.data.via).sort()).toEqual(['amqp', 'mqtt']);

    // The name is taken now; the password is never shown again.
    const again = await api.post<ErrorBody>(devices, { name: 'pi-add' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DEVICE_NAME_TAKEN');
    const shown = await api.get<Record<string, unknown>>(`${devices}/pi-add`);
    expect(shown.body).toMatchObject({
      name: 'pi-add',
      status: 'active',
      labels: { site: 'north' },
    });
    expect(JSON.stringify(shown.body)).not.toContain(created.body.password);
  });

  it('rotates: the old password is refused at once and its connection closed, the new one works', async () => {
    const created = await api.post<DeviceWithPassword>(devices, { name: 'pi-rotate' });
    expect(created.status).toBe(201);
    const old = login('pi-rotate', created.body.password);
    const { client: connectedWithOld } = await firstMqttLogin(old, Date.now() + TAKES_EFFECT_MS);
    const closed = new Promise<number>((resolve) =>
      connectedWithOld.once('close', () => resolve(Date.now())),
    );

    const started = Date.now();
    const rotated = await api.post<DeviceWithPassword>(`${devices}/pi-rotate/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.password).not.toBe(created.body.password);
    await expect(connectMqtt(old)).rejects.toThrow(/Bad username or password|Not authorized/i);
    const { client, at } = await firstMqttLogin(
      login('pi-rotate', rotated.body.password),
      started + TAKES_EFFECT_MS,
    );
    latencies.rotate = at - started;
    expect(latencies.rotate).toBeLessThan(TAKES_EFFECT_MS);
    expect((await closed) - started).toBeLessThan(TAKES_EFFECT_MS);
    await client.endAsync();
    const device = await api.get<{ rotatedAt: string | null }>(`${devices}/pi-rotate`);
    expect(device.body.rotatedAt).not.toBeNull();
  });

  it('revokes a connected device within 5 s while another device keeps publishing', async () => {
    const created = await api.post<DeviceWithPassword>(devices, { name: 'pi-revoke' });
    expect(created.status).toBe(201);
    const doomed = login('pi-revoke', created.body.password);
    const { client } = await firstMqttLogin(doomed, Date.now() + TAKES_EFFECT_MS);
    const closed = new Promise<number>((resolve) =>
      client.once('close', () => resolve(Date.now())),
    );

    // The keeper publishes throughout (QoS 1, each acknowledged by the broker).
    const keeper = await connectMqtt(login('keeper', keeperPassword));
    let sent = 0;
    let publishing = true;
    const keeperRun = (async () => {
      while (publishing) {
        sent += 1;
        await keeper.publishAsync(
          'telemetry/room/keeper',
          JSON.stringify(reading('keeper', sent, 'mqtt')),
          {
            qos: 1,
          },
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const started = Date.now();
    const revoked = await api.delete<{ status: string; revokedAt: string }>(`${devices}/pi-revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    latencies.revoke = (await closed) - started;
    expect(latencies.revoke).toBeLessThan(TAKES_EFFECT_MS);
    await expect(connectMqtt(doomed)).rejects.toThrow(/Bad username or password|Not authorized/i);
    const amqpRefused = amqpPublisher(login('pi-revoke', created.body.password, amqpPort));
    await expect(amqpRefused).rejects.toThrow(/ACCESS_REFUSED|403/);

    publishing = false;
    await keeperRun;
    await keeper.endAsync();
    const stored = await waitFor(
      `all ${sent} keeper readings`,
      () => probe.readings('postgres').filter((row) => row.device === 'keeper'),
      (rows) => rows.length === sent,
      30_000,
    );
    expect(stored.map((row) => row.data.seq)).toEqual(
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    expect(sent).toBeGreaterThan(1);

    // Revoked: listed as such, its name free again; a second revoke is a conflict.
    const listed = await api.get<{ name: string }[]>(`${devices}?status=revoked`);
    expect(listed.body.map((device) => device.name)).toEqual(['pi-revoke']);
    expect((await api.delete<ErrorBody>(`${devices}/pi-revoke`)).body.error.code).toBe(
      'DEVICE_REVOKED',
    );
  });

  it('registers nothing when the broker refuses the change (502, clear error)', async () => {
    // The platform's management port pointed elsewhere: the tunnel reaches no broker.
    const platforms = app.get(DataSource).getRepository(Platform);
    const platform = await platforms.findOneByOrFail({ id: platformId });
    const closedPort = await freeLoopbackPort();
    await platforms.update(platformId, {
      ports: { ...platform.ports, rabbitmqManagement: closedPort },
    });
    try {
      const refused = await api.post<ErrorBody>(devices, { name: 'pi-lost' });
      expect(refused.status).toBe(502);
      expect(refused.body.error.code).toBe('BROKER_CHANGE_FAILED');
      expect(refused.body.error.message).toMatch(/pi-lost.*nothing was changed/);
      expect((await api.get<ErrorBody>(`${devices}/pi-lost`)).status).toBe(404);
      const rotate = await api.post<ErrorBody>(`${devices}/keeper/rotate`);
      expect(rotate.status).toBe(502);
      const revoke = await api.delete<ErrorBody>(`${devices}/keeper`);
      expect(revoke.status).toBe(502);
      expect((await api.get<{ status: string }>(`${devices}/keeper`)).body.status).toBe('active');
    } finally {
      await platforms.update(platformId, { ports: platform.ports });
    }
    // The keeper's password did not change: it still logs in.
    const { client } = await firstMqttLogin(login('keeper', keeperPassword), Date.now() + 2_000);
    await client.endAsync();
  });
});
