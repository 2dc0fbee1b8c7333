import type { INestApplication } from '@nestjs/common';
import amqp from 'amqplib';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../../test/shared-broker-platform';
import { waitFor } from '../../test/test-env';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { Platform } from '../platforms/platform.entity';
import type { MetricsSeriesDto } from './dto/metrics.dto';
import { PlatformMetricSample } from './platform-metric-sample.entity';

type Listed = { name: string; online: boolean | null };

/**
 * Devices online in the metrics history, against a real broker (the shared test RabbitMQ, reached
 * over SSH and its management API as a launched platform's is): each health check's sample
 * counts the active devices holding a connection, the series answers it, and it is unknown
 * (null) once nobody who owns the platform is signed in.
 */
describe('Devices online in the metrics history (shared test RabbitMQ over SSH)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let platformId: string;
  const created: string[] = [];

  beforeAll(async () => {
    const started = await startTestApp({ role: 'api' });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('counted');
    ({ platformId, broker } = await sharedBrokerPlatform(app, api));
  }, 120_000);

  afterAll(async () => {
    // Broker users are global on the shared broker: leave none behind.
    for (const name of created) await broker?.api('DELETE', `/users/${name}`);
    await app?.close();
  });

  /** What the minute's health check hands its observers (the metrics history among them). */
  async function healthCheckAt(observedAt: Date): Promise<PlatformMetricSample> {
    const platform = await app
      .get(DataSource)
      .getRepository(Platform)
      .findOneByOrFail({ id: platformId });
    await app.get(PlatformHealthObservers).notify({
      platform,
      health: { status: 'healthy', reason: null, checkedAt: observedAt.toISOString() },
      processor: null,
      observedAt,
    });
    return app
      .get(DataSource)
      .getRepository(PlatformMetricSample)
      .findOneByOrFail({ platformId, sampledAt: observedAt });
  }

  it('samples the active devices with a broker connection, and answers them in the series', async () => {
    const devices = `/platforms/${platformId}/devices`;
    const newDevice = async (prefix: string) => {
      const name = uniqueDeviceName(prefix);
      created.push(name);
      const answer = await api.post<{ password: string }>(devices, { name });
      expect(answer.status).toBe(201);
      return { name, password: answer.body.password };
    };
    const live = await newDevice('pi-live');
    await newDevice('pi-idle');
    const revoked = await newDevice('pi-gone');
    expect((await api.delete(`${devices}/${revoked.name}`)).status).toBe(200);
    const active = (await api.get<Listed[]>(devices)).body.filter(
      (device) => device.name !== revoked.name,
    );

    const before = await healthCheckAt(new Date(Date.now() - 60_000));
    expect(before).toMatchObject({ devicesOnline: 0, devicesTotal: active.length });

    const url = `amqp://${live.name}:${encodeURIComponent(live.password)}@127.0.0.1:${broker.amqpPort}`;
    const connection = await amqp.connect(url);
    try {
      // The management API lists a connection once the broker emitted its statistics (5 s).
      await waitFor(
        async () => {
          const listed = await api.get<Listed[]>(devices);
          return listed.body.find((device) => device.name === live.name)?.online || undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, what: `${live.name} online` },
      );
      const now = await healthCheckAt(new Date());
      expect(now).toMatchObject({ devicesOnline: 1, devicesTotal: active.length });

      const series = await api.get<MetricsSeriesDto>(`/platforms/${platformId}/metrics`);
      expect(series.body.points.map((p) => [p.devicesOnline, p.devicesTotal])).toEqual([
        [0, active.length],
        [1, active.length],
      ]);

      // Signed out: the broker login cannot be opened, so online is unknown, not zero.
      expect((await api.post('/auth/logout', { refreshToken: api.refreshToken })).status).toBe(204);
      const unknown = await healthCheckAt(new Date(Date.now() + 60_000));
      expect(unknown).toMatchObject({ devicesOnline: null, devicesTotal: active.length });
    } finally {
      await connection.close();
    }
  });
});
