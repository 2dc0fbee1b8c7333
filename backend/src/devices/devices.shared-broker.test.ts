import type { INestApplication } from '@nestjs/common';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { DataSource } from 'typeorm';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { freeLoopbackPort } from '../common/free-port';
import { Platform } from '../platforms/platform.entity';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../../test/shared-broker-platform';

type DeviceWithPassword = { device: { name: string }; password: string };

/**
 * Device changes against a real RabbitMQ in seconds: the shared test broker stands in for a
 * platform's, reached over SSH and the management API as a launched platform's is
 * (test/shared-broker-platform.ts). devices.broker.test.ts covers a launched platform.
 */
describe('Device changes on a real broker (shared test RabbitMQ over SSH)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  let platformId: string;
  const created: string[] = [];

  beforeAll(async () => {
    ({ app } = await startTestApp({ role: 'api' }).then(async (started) => {
      api = new ApiClient(started.baseUrl);
      await api.signUp('fleet');
      return started;
    }));
    const platform = await sharedBrokerPlatform(app, api);
    broker = platform.broker;
    platformId = platform.platformId;
    devices = `/platforms/${platformId}/devices`;
  }, 120_000);

  afterAll(async () => {
    // Broker users are global on the shared broker: leave none behind.
    for (const name of created) await broker?.api('DELETE', `/users/${name}`);
    await app?.close();
  });

  /** Whether the broker accepts this AMQP login now. */
  async function amqpLogin(username: string, password: string): Promise<boolean> {
    const url = `amqp://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${broker.amqpPort}`;
    try {
      await (await amqp.connect(url)).close();
      return true;
    } catch (error) {
      if (/ACCESS_REFUSED|403/.test(String(error))) return false;
      throw error;
    }
  }

  async function newDevice(prefix: string): Promise<{ name: string; password: string }> {
    const name = uniqueDeviceName(prefix);
    created.push(name);
    const answer = await api.post<DeviceWithPassword>(devices, { name });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return { name, password: answer.body.password };
  }

  it('lists each device online or offline from the broker’s connection list; null (unknown) when the broker cannot be asked', async () => {
    type Listed = { name: string; online: boolean | null; connections: number | null };
    const live = await newDevice('pi-live');
    const idle = await newDevice('pi-idle');
    const listed = async (query = '') => {
      const answer = await api.get<Listed[]>(`${devices}${query}`);
      expect(answer.status).toBe(200);
      return Object.fromEntries(answer.body.map((device) => [device.name, device]));
    };
    expect((await listed())[live.name]).toMatchObject({ online: false, connections: 0 });

    const url = `amqp://${live.name}:${encodeURIComponent(live.password)}@127.0.0.1:${broker.amqpPort}`;
    const connection = await amqp.connect(url);
    try {
      // The management API lists a connection once the broker emitted its statistics (5 s).
      const now = await waitFor(
        async () => {
          const all = await listed();
          return all[live.name]!.online ? all : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: `${live.name} online` },
      );
      expect(now[live.name]).toMatchObject({ online: true, connections: 1 });
      expect(now[idle.name]).toMatchObject({ online: false, connections: 0 });
      expect(Object.keys(await listed('?online=true'))).toContain(live.name);
      expect(Object.keys(await listed('?online=true'))).not.toContain(idle.name);
      expect(Object.keys(await listed('?online=false'))).toContain(idle.name);
      expect(Object.keys(await listed('?online=false'))).not.toContain(live.name);
      const one = await api.get<Listed>(`${devices}/${live.name}`);
      expect(one.body).toMatchObject({ online: true, connections: 1 });
    } finally {
      await connection.close();
    }
    await waitFor(async () => ((await listed())[live.name]!.online === false ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: `${live.name} offline after closing`,
    });

    // A broker that cannot be asked, or a platform that is not running: unknown, answered fast.
    const platforms = app.get(DataSource).getRepository(Platform);
    const platform = await platforms.findOneByOrFail({ id: platformId });
    for (const change of [
      { ports: { ...platform.ports, rabbitmqManagement: await freeLoopbackPort() } },
      { status: 'failed' as const },
    ]) {
      await platforms.update(platformId, change);
      try {
        const started = Date.now();
        const unknown = await listed();
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(unknown[live.name]).toMatchObject({ online: null, connections: null });
        expect(await listed('?online=true')).toEqual({});
      } finally {
        await platforms.update(platformId, { ports: platform.ports, status: platform.status });
      }
    }
    expect(
      (await api.get<ErrorBody>(`${devices}?online=maybe`)).status,
      'online must be true or false',
    ).toBe(400);
  });

  it('serializes changes of one device: of two rotates at once one is 409 DEVICE_BUSY, and the broker has the winner’s password', async () => {
    const { name, password: first } = await newDevice('pi-race');
    const answers = await Promise.all([
      api.post<DeviceWithPassword & ErrorBody>(`${devices}/${name}/rotate`),
      api.post<DeviceWithPassword & ErrorBody>(`${devices}/${name}/rotate`),
    ]);
    expect(answers.map(({ status }) => status).sort()).toEqual([201, 409]);
    const winner = answers.find(({ status }) => status === 201)!;
    const loser = answers.find(({ status }) => status === 409)!;
    expect(loser.body.error.code).toBe('DEVICE_BUSY');
    expect(await amqpLogin(name, winner.body.password)).toBe(true);
    expect(await amqpLogin(name, first)).toBe(false);

    // The lock is released: the next change goes through, and again only its password works.
    const next = await api.post<DeviceWithPassword>(`${devices}/${name}/rotate`);
    expect(next.status).toBe(201);
    expect(await amqpLogin(name, next.body.password)).toBe(true);
    expect(await amqpLogin(name, winner.body.password)).toBe(false);
  });

  it('a revoke racing a rotate: one is refused DEVICE_BUSY, and the registry agrees with the broker', async () => {
    const { name, password } = await newDevice('pi-race2');
    const [rotated, revoked] = await Promise.all([
      api.post<DeviceWithPassword & ErrorBody>(`${devices}/${name}/rotate`),
      api.delete<ErrorBody>(`${devices}/${name}`),
    ]);
    expect([rotated.status, revoked.status].filter((code) => code === 409)).toHaveLength(1);
    const status = (await api.get<{ status: string }>(`${devices}/${name}`)).body.status;
    if (revoked.status === 200) {
      expect(rotated.body.error.code).toBe('DEVICE_BUSY');
      expect(status).toBe('revoked');
      expect(await amqpLogin(name, password)).toBe(false);
    } else {
      expect(revoked.body.error.code).toBe('DEVICE_BUSY');
      expect(status).toBe('active');
      expect(await amqpLogin(name, rotated.body.password)).toBe(true);
    }
  });
});
