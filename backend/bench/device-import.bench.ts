import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client';
import { startTestApp } from '../test/http-app';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../test/shared-broker-platform';
import { tempDir, waitFor } from '../test/test-env';
import { Deployment } from '../src/deployments/deployment.entity';

/**
 * `npm run bench:device-import` (BENCH_IMPORT_DEVICES=N, default 1,000; BENCH_SINGLE_DEVICES=B,
 * default 50): the baseline, B devices created one by one (POST …/devices: three management
 * calls each), against one CSV import of N devices (a job: 500 users per `POST /api/definitions`),
 * from the request to the job's success, then the one-time password export. Broker: the shared
 * test RabbitMQ reached as a launched platform's (SSH + management API). Prints ms per device of
 * both and the speed-up.
 */
const IMPORTED = Number(process.env.BENCH_IMPORT_DEVICES ?? 1_000);
const SINGLE = Number(process.env.BENCH_SINGLE_DEVICES ?? 50);

describe('bench: bulk device import against one-by-one creation', () => {
  let app: INestApplication;
  let worker: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  const names: string[] = [];

  beforeAll(async () => {
    const dataDir = tempDir();
    const env = { QUEUE_PREFIX: `fs-bench-${randomUUID()}` };
    const started = await startTestApp({ role: 'api', dataDir, env });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('bench-import');
    const platform = await sharedBrokerPlatform(app, api);
    broker = platform.broker;
    devices = `/platforms/${platform.platformId}/devices`;
    // The registration's launch never runs: end its deployment before the worker starts.
    await app
      .get(DataSource)
      .getRepository(Deployment)
      .update(
        { targetId: platform.platformId, action: 'launch' },
        { status: 'cancelled', activeKey: null, finishedAt: new Date() },
      );
    worker = (await startTestApp({ role: 'worker', dataDir, env })).app;
  }, 120_000);

  afterAll(async () => {
    for (let start = 0; start < names.length; start += 100) {
      await broker?.api('POST', '/users/bulk-delete', { users: names.slice(start, start + 100) });
    }
    await worker?.close();
    await app?.close();
  });

  it(`imports ${IMPORTED} devices, against ${SINGLE} created one by one`, async () => {
    const prefix = uniqueDeviceName('bench');
    const singleStart = Date.now();
    for (let index = 0; index < SINGLE; index++) {
      const name = `${prefix}-s${index}`;
      names.push(name);
      expect((await api.post(devices, { name })).status).toBe(201);
    }
    const singleMs = (Date.now() - singleStart) / SINGLE;

    const rows = Array.from({ length: IMPORTED }, (_, index) => `${prefix}-i${index},site=bench`);
    names.push(...rows.map((row) => row.split(',')[0]!));
    const importStart = Date.now();
    const started = await api.post<{ id: string }>(`${devices}/import`, {
      csv: `name,labels\n${rows.join('\n')}\n`,
    });
    expect(started.status).toBe(202);
    const status = await waitFor(
      async () => {
        const { body } = await api.get<{ status: string; created: number; error: string | null }>(
          `${devices}/imports/${started.body.id}`,
        );
        return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 200, what: 'the import' },
    );
    expect(status).toMatchObject({ status: 'succeeded', created: IMPORTED, error: null });
    const importMs = Date.now() - importStart;

    const exportStart = Date.now();
    const exported = await fetch(
      `${api.baseUrl}/api/v1${devices}/imports/${started.body.id}/passwords`,
      { method: 'POST', headers: { authorization: `Bearer ${api.accessToken!}` } },
    );
    expect(exported.status).toBe(200);
    expect((await exported.text()).trim().split('\n')).toHaveLength(IMPORTED + 1);
    const exportMs = Date.now() - exportStart;

    const perImported = importMs / IMPORTED;
    console.log(
      [
        `one by one (baseline, ${SINGLE}): ${singleMs.toFixed(1)} ms/device`,
        `import (${IMPORTED}): ${importMs} ms total, ${perImported.toFixed(2)} ms/device`,
        `password export (${IMPORTED}): ${exportMs} ms`,
        `device-import: ${IMPORTED} devices in ${(importMs / 1000).toFixed(1)} s, ` +
          `${(singleMs / perImported).toFixed(1)}x faster per device than one by one`,
      ].join('\n'),
    );
  });
});
