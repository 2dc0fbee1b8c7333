import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { RateLimiter } from '../auth/rate-limiter';
import { DRY_RUN_CONCURRENCY, DRY_RUN_RATE, dryRunLimitKey } from './script-debugging.service';

/**
 * The per-user limits of dry runs, in the real app with its real Redis: they are taken before
 * the platform is looked up, so an unknown platform's 404 shows a request that got through.
 * A dry run in progress is a slot held through the app's own limiter (a real dry run needs a
 * launched platform, see script-debugging.test.ts).
 */
describe('Dry run limits', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  const dryRun = (api: ApiClient) =>
    api.post<ErrorBody>(`/platforms/${randomUUID()}/processor/dry-run`, {
      scriptSource: 'export default (reading) => reading;',
      from: 'readings',
    });

  it("answers 429 DRY_RUN_IN_PROGRESS while the user's other dry run runs, for that user only", async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('dryrunner');
    const other = new ApiClient(baseUrl);
    await other.signUp('neighbour');
    expect((await dryRun(api)).status).toBe(404);

    const release = await app
      .get(RateLimiter)
      .holdSlot(dryRunLimitKey(userId), DRY_RUN_CONCURRENCY);
    const busy = await dryRun(api);
    expect(busy.status).toBe(429);
    expect(busy.body.error.code).toBe('DRY_RUN_IN_PROGRESS');
    expect((await dryRun(other)).status).toBe(404);

    await release();
    expect((await dryRun(api)).status).toBe(404);
  });

  it('answers 429 RATE_LIMITED past the rate, with the seconds to wait', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('hasty');
    const statuses = [];
    for (let i = 0; i < DRY_RUN_RATE.limit; i++) statuses.push((await dryRun(api)).status);
    expect(new Set(statuses)).toEqual(new Set([404]));
    const limited = await dryRun(api);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'RATE_LIMITED' });
    const retry = limited.body.error.details as { retryAfterSeconds?: number } | undefined;
    expect(retry?.retryAfterSeconds).toBeGreaterThan(0);
    expect(retry?.retryAfterSeconds).toBeLessThanOrEqual(DRY_RUN_RATE.windowSeconds);
  });

  it('frees a slot whose holder never gave it back once its lease ends', async () => {
    const limiter = app.get(RateLimiter);
    const limit = { concurrent: 1, leaseSeconds: 1, code: 'TEST_BUSY' };
    await limiter.holdSlot('lease-test', limit);
    await expect(limiter.holdSlot('lease-test', limit)).rejects.toMatchObject({ status: 429 });
    const release = await waitFor(
      () => limiter.holdSlot('lease-test', limit).catch(() => undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the expired lease',
      },
    );
    await release();
  });
});
