import { createServer, type Server } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { freeLoopbackPort } from '../common/free-port';
import { DeploymentsService } from '../deployments/deployments.service';
import { PlatformHealthChecks } from '../platforms/platform-health';
import { Platform } from '../platforms/platform.entity';
import type { MetricsSeriesDto, PlatformReadingsSummaryDto } from './dto/metrics.dto';
import { MetricsHistory } from './metrics-history';
import { PlatformMetricSample } from './platform-metric-sample.entity';

const MINUTE = 60_000;

/**
 * The metrics history over HTTP against the real app (SQLite, Redis): the health check's samples
 * land in the database, GET …/metrics answers the series, old samples are pruned.
 */
describe('Metrics API', () => {
  let app: INestApplication;
  let baseUrl: string;
  let broker: Server;
  let brokerPort: number;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
    // Stands where a platform's broker port would be, so the outside check finds it open.
    broker = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
    brokerPort = (broker.address() as { port: number }).port;
  });
  afterAll(async () => {
    broker?.close();
    await app?.close();
  });

  /** A platform the worker would check: running, at an address with an open broker port. */
  let platformsMade = 0;
  async function runningPlatform(api: ApiClient, on: INestApplication = app): Promise<string> {
    platformsMade += 1;
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: `pi-${platformsMade}`,
      host: '127.0.0.1',
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    const launched = await api.post<{ platform: { id: string; ports: Platform['ports'] } }>(
      '/platforms',
      {
        name: `m${Date.now().toString(36)}-${platformsMade}`,
        target: 'ssh-host',
        credentialId: credential.body.id,
      },
    );
    const { id, ports } = launched.body.platform;
    const onlyMqtt = Object.fromEntries(Object.keys(ports).map((name) => [name, null]));
    await on
      .get(DataSource)
      .getRepository(Platform)
      .update(
        { id },
        {
          status: 'running',
          address: '127.0.0.1',
          ports: { ...onlyMqtt, mqtt: brokerPort } as Platform['ports'],
        },
      );
    return id;
  }

  const samples = (platformId: string, on: INestApplication = app) =>
    on
      .get(DataSource)
      .getRepository(PlatformMetricSample)
      .find({ where: { platformId }, order: { sampledAt: 'ASC' } });

  it("stores each health check's sample of a running platform", async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('sampled');
    const id = await runningPlatform(api);
    expect(await samples(id)).toEqual([]);

    await app.get(PlatformHealthChecks).checkAll();

    const stored = await samples(id);
    expect(stored).toHaveLength(1);
    // The broker port answers; the host (SSH on a closed port) does not: degraded, no figures.
    expect(stored[0]).toMatchObject({ status: 'degraded', messagesIn: null, queueDepth: null });
    const series = await api.get<MetricsSeriesDto>(`/platforms/${id}/metrics`);
    expect(series.status).toBe(200);
    expect(series.body.points.map((point) => point.status)).toEqual(['degraded']);
  });

  it('skips a platform while a restore holds it, and checks it as soon as a deployment of it ends', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('restoring');
    const id = await runningPlatform(api);
    const deployments = app.get(DeploymentsService);
    const checks = app.get(PlatformHealthChecks);
    const health = async () =>
      (await api.get<{ health: { status: string } | null }>(`/platforms/${id}`)).body.health;
    const statuses = async () =>
      (await api.get<MetricsSeriesDto>(`/platforms/${id}/metrics`)).body.points.map(
        (point) => point.status,
      );

    // POST /platforms queued a launch (no worker runs here): its end checks the platform at
    // once, with no round. The host (SSH on a closed port) does not answer.
    const samples = (count: number) =>
      waitFor(async () => ((await statuses()).length === count ? true : undefined), {
        what: `${count} health samples`,
      });
    const launch = await deployments.active({ kind: 'platform', id });
    await deployments.finish(launch!.id, 'cancelled');
    await samples(1);
    expect(await health()).toMatchObject({ status: 'degraded' });
    expect(await statuses()).toEqual(['degraded']);

    // The restore stops the processor on purpose: the minute's round leaves the platform alone,
    // and the restore's end checks it.
    const restore = await deployments.create(userId, { kind: 'platform', id }, 'restore');
    await checks.checkAll();
    expect(await statuses()).toHaveLength(1);
    await deployments.finish(restore.id, 'succeeded');
    await samples(2);

    // A backup stops nothing: the round checks the platform meanwhile, and its end does again.
    const backup = await deployments.create(userId, { kind: 'platform', id }, 'backup');
    await checks.checkAll();
    expect(await statuses()).toHaveLength(3);
    await deployments.finish(backup.id, 'failed', 'The dump failed');
    await samples(4);
  });

  it('answers the series of the range with rates, and prunes samples older than 7 days', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('charted');
    const id = await runningPlatform(api);
    const platform = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id });
    const history = app.get(MetricsHistory);
    const now = Date.now();
    const startedAt = new Date(now - 10 * 24 * 60 * MINUTE).toISOString();
    const record = (minutesAgo: number, messagesIn: number, messagesFailed = 0) =>
      history.record({
        platform,
        health: {
          status: 'healthy',
          reason: null,
          checkedAt: new Date().toISOString(),
          disk: { usedPercent: 40 + minutesAgo / 100, bytesFree: 6e9, bytesTotal: 1e10 },
        },
        processor: {
          startedAt,
          messagesIn,
          readingsOut: messagesIn - messagesFailed,
          messagesFailed,
          queueDepth: 7,
          batchLatencyMs: { p50: 30, p99: 80 },
        },
        observedAt: new Date(now - minutesAgo * MINUTE),
      });
    await record(8 * 24 * 60, 0); // beyond the kept 7 days: pruned by the next record
    await record(3 * 60, 1_000); // in the last day, not the last hour
    await record(61, 5_000);
    await record(30, 6_800, 60);
    await record(29, 8_000, 120);

    expect((await samples(id)).map((sample) => sample.messagesIn)).toEqual([
      1_000, 5_000, 6_800, 8_000,
    ]);

    const hour = await api.get<MetricsSeriesDto>(`/platforms/${id}/metrics?range=1h`);
    expect(hour.status).toBe(200);
    expect(hour.body).toMatchObject({ range: '1h', intervalSeconds: 60 });
    // 31 minutes between the 61- and 30-minute samples: 1,800 messages in, 60 failed.
    expect(
      hour.body.points.map((p) => [p.readingsInPerSecond, p.failedPerSecond, p.queueDepth]),
    ).toEqual([
      [1_800 / (31 * 60), 60 / (31 * 60), 7],
      [20, 1, 7],
    ]);
    expect(hour.body.points[0]!.batchLatencyP99Ms).toBe(80);
    expect(hour.body.points.map((p) => [p.diskUsedPercent, p.diskBytesFree])).toEqual([
      [40.3, 6e9],
      [40.29, 6e9],
    ]);

    const day = await api.get<MetricsSeriesDto>(`/platforms/${id}/metrics?range=24h`);
    expect(day.body.points).toHaveLength(4);
    expect(day.body.points[0]!.readingsInPerSecond).toBeNull();
  });

  it("answers every platform's readings/s of the last hour in one call, the user's own only", async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('listed');
    const busy = await runningPlatform(api);
    const quiet = await runningPlatform(api);
    const platform = await app
      .get(DataSource)
      .getRepository(Platform)
      .findOneByOrFail({ id: busy });
    const now = Date.now();
    const startedAt = new Date(now - 3 * 60 * MINUTE).toISOString();
    for (const [minutesAgo, messagesIn] of [
      [70, 0],
      [59, 1_000],
      [20, 3_340],
      [10, 4_540],
    ] as const) {
      await app.get(MetricsHistory).record({
        platform,
        health: { status: 'healthy', reason: null, checkedAt: new Date().toISOString() },
        processor: { startedAt, messagesIn, readingsOut: messagesIn, messagesFailed: 0 },
        observedAt: new Date(now - minutesAgo * MINUTE),
      });
    }

    const summary = await api.get<PlatformReadingsSummaryDto[]>('/platforms/metrics/summary');
    expect(summary.status).toBe(200);
    const points = (id: string) =>
      summary.body.find((item) => item.platformId === id)?.points.map((p) => p.readingsInPerSecond);
    expect(summary.body).toHaveLength(2);
    expect(points(quiet)).toEqual([]);
    // From 59 to 20 minutes ago 2,340 messages (1 a second), then 1,200 in 10 minutes. The
    // 70-minute sample is outside the hour, and too old to give the first point a rate.
    expect(points(busy)).toEqual([null, 1, 2]);

    const other = new ApiClient(baseUrl);
    await other.signUp('unlisted');
    const foreign = await other.get<PlatformReadingsSummaryDto[]>('/platforms/metrics/summary');
    expect(foreign.status).toBe(200);
    expect(foreign.body).toEqual([]);
  });

  it("answers 400 for an unknown range and 404 for another user's platform", async () => {
    const owner = new ApiClient(baseUrl);
    await owner.signUp('owner');
    const id = await runningPlatform(owner);
    const badRange = await owner.get<ErrorBody>(`/platforms/${id}/metrics?range=7d`);
    expect(badRange.status).toBe(400);
    expect(JSON.stringify(badRange.body.error.details)).toContain('range');

    const other = new ApiClient(baseUrl);
    await other.signUp('other');
    const foreign = await other.get<ErrorBody>(`/platforms/${id}/metrics`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('PLATFORM_NOT_FOUND');
  });

  it('checks and samples on its own every HEALTH_CHECK_INTERVAL_SECONDS, and says so in the series', async () => {
    // A worker of its own: the scheduled health check, not a call from the test, takes the samples.
    const fast = await startTestApp({ env: { HEALTH_CHECK_INTERVAL_SECONDS: '10' } });
    try {
      const api = new ApiClient(fast.baseUrl);
      await api.signUp('fast');
      const id = await runningPlatform(api, fast.app);
      const taken = await waitFor(
        async () => {
          const stored = await samples(id, fast.app);
          return stored.length >= 3 ? stored : undefined;
        },
        { what: 'three scheduled samples', timeoutMs: 60_000 },
      );
      const gaps = taken
        .slice(1)
        .map((sample, index) => sample.sampledAt.getTime() - taken[index]!.sampledAt.getTime());
      // A minute's schedule would have taken one sample in these seconds, not three.
      expect(Math.max(...gaps)).toBeLessThan(MINUTE / 2);
      const series = await api.get<MetricsSeriesDto>(`/platforms/${id}/metrics`);
      expect(series.body.intervalSeconds).toBe(10);
    } finally {
      await fast.app.close();
    }
  }, 120_000);
});
