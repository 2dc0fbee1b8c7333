import { describe, expect, it } from 'vitest';
import type { PlatformHealthObservation } from '../platforms/health-observers';
import type { Platform } from '../platforms/platform.entity';
import { ratePerSecond, sampleOf, toSeries } from './metric-series';
import type { PlatformMetricSample } from './platform-metric-sample.entity';
import { metricSample } from './testing/metric-sample';

const minute = (n: number) => new Date(Date.UTC(2026, 11, 2, 4, n));
const started = new Date(Date.UTC(2026, 11, 2, 3, 0));

function sample(n: number, counters: Partial<PlatformMetricSample> = {}): PlatformMetricSample {
  return metricSample(minute(n), started, counters);
}

describe('metric series', () => {
  it('turns counters of consecutive samples into per-second rates', () => {
    const series = toSeries(
      [
        sample(0, { messagesIn: 100, readingsStored: 90, messagesFailed: 0 }),
        sample(1, { messagesIn: 700, readingsStored: 630, messagesFailed: 60 }),
        sample(3, { messagesIn: 1900, readingsStored: 1830, messagesFailed: 60 }),
      ],
      minute(1),
    );
    // The sample before the range gives the first point its rates, but is no point itself.
    expect(series.map((point) => point.at)).toEqual([minute(1), minute(3)]);
    expect(series.map((p) => [p.readingsInPerSecond, p.readingsStoredPerSecond])).toEqual([
      [10, 9],
      [10, 10],
    ]);
    expect(series.map((p) => p.failedPerSecond)).toEqual([1, 0]);
  });

  it('has no rate across a processor restart, a counter going back, or a missing reading', () => {
    const before = sample(0, { messagesIn: 500 });
    expect(
      ratePerSecond(
        before,
        { ...sample(1, { messagesIn: 520 }), processorStartedAt: minute(1) },
        'messagesIn',
      ),
    ).toBeNull();
    expect(ratePerSecond(before, sample(1, { messagesIn: 20 }), 'messagesIn')).toBeNull();
    expect(ratePerSecond(before, sample(1), 'messagesIn')).toBeNull();
    expect(ratePerSecond(undefined, sample(1, { messagesIn: 20 }), 'messagesIn')).toBeNull();
    expect(ratePerSecond(before, sample(1, { messagesIn: 560 }), 'messagesIn')).toBe(1);
  });

  it('takes from the processor status only figures of the right type', () => {
    const observation = (processor: Record<string, unknown> | null): PlatformHealthObservation => ({
      platform: { id: 'p' } as Platform,
      health: {
        status: 'degraded',
        reason: 'x',
        checkedAt: minute(5).toISOString(),
        disk: { usedPercent: 87.5, bytesFree: 1_250_000_000, bytesTotal: 10_000_000_000 },
      },
      processor,
      observedAt: minute(5),
    });
    expect(
      sampleOf(
        observation({
          startedAt: started.toISOString(),
          messagesIn: 12,
          readingsOut: 10,
          messagesFailed: 2,
          queueDepth: 3,
          lastReadingAt: minute(4).toISOString(),
          batchLatencyMs: { p50: 40, p99: 120 },
          endToEndLatencyMs: { p50: null, p99: 900 },
        }),
        { total: 5, online: 3 },
      ),
    ).toEqual({
      platformId: 'p',
      sampledAt: minute(5),
      status: 'degraded',
      processorStartedAt: started,
      messagesIn: 12,
      readingsStored: 10,
      messagesFailed: 2,
      queueDepth: 3,
      lastReadingAt: minute(4),
      batchLatencyP50Ms: 40,
      batchLatencyP99Ms: 120,
      endToEndLatencyP50Ms: null,
      endToEndLatencyP99Ms: 900,
      devicesOnline: 3,
      devicesTotal: 5,
      diskUsedPercent: 87.5,
      diskBytesFree: 1_250_000_000,
    });
    expect(
      sampleOf(
        observation({
          startedAt: 'yesterday',
          messagesIn: '12',
          queueDepth: Infinity,
          batchLatencyMs: 5,
        }),
      ),
    ).toMatchObject({
      processorStartedAt: null,
      messagesIn: null,
      queueDepth: null,
      batchLatencyP50Ms: null,
    });
    expect(sampleOf(observation(null))).toMatchObject({
      status: 'degraded',
      messagesIn: null,
      devicesOnline: null,
      devicesTotal: null,
    });
  });
});
