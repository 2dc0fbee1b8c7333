import type { INestApplication } from '@nestjs/common';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from './testing/shared-broker-platform';

type DeviceWithPassword = { device: { name: string }; password: string };

/**
 * Device changes against a real RabbitMQ in seconds: the shared test broker stands in for a
 * platform's, reached over SSH and the management API as a launched platform's is
 * (testing/shared-broker-platform.ts). devices.broker.test.ts covers a launched platform.
 */
describe('Device changes on a real broker (shared test RabbitMQ over SSH)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  const created: string[] = [];

  beforeAll(async () => {
    ({ app } = await startTestApp({ role: 'api' }).then(async (started) => {
      api = new ApiClient(started.baseUrl);
      await api.signUp('fleet');
      return started;
    }));
    const platform = await sharedBrokerPlatform(app, api);
    broker = platform.broker;
    devices = `/platforms/${platform.platformId}/devices`;
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
