import type { PlatformHealthObservation } from '../platforms/health-observers';
import type { HealthStatus } from '../platforms/platform.entity';
import type { PlatformMetricSample } from './platform-metric-sample.entity';

/**
 * The default health check interval (HEALTH_CHECK_INTERVAL_SECONDS), a sample each: alert
 * staleness and lateness, and the series' margin, count in it.
 */
export const SAMPLE_INTERVAL_MS = 60_000;
/** Samples older than this are pruned. */
export const KEEP_MS = 7 * 24 * 60 * 60_000;

export const METRICS_RANGES = ['1h', '24h'] as const;
export type MetricsRange = (typeof METRICS_RANGES)[number];
export const RANGE_MS: Record<MetricsRange, number> = {
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
};

/** One point of a platform's series: rates from this sample and the one before it. */
export interface MetricPoint {
  at: Date;
  status: HealthStatus;
  /** Null where the host was not read, or the processor restarted between the two samples. */
  readingsInPerSecond: number | null;
  readingsStoredPerSecond: number | null;
  failedPerSecond: number | null;
  queueDepth: number | null;
  lastReadingAt: Date | null;
  batchLatencyP50Ms: number | null;
  batchLatencyP99Ms: number | null;
  endToEndLatencyP50Ms: number | null;
  endToEndLatencyP99Ms: number | null;
  /** Active devices with a broker connection; null where the broker could not be asked. */
  devicesOnline: number | null;
  devicesTotal: number | null;
  diskUsedPercent: number | null;
  diskBytesFree: number | null;
}

/** A fleet's size and connected part at the sample's minute (`online` null: unknown). */
export interface FleetCounts {
  total: number;
  online: number | null;
}

/** A point of a platform's sparkline. */
export type ReadingsRatePoint = Pick<MetricPoint, 'at' | 'readingsInPerSecond'>;

const figure = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

const instant = (value: unknown): Date | null => {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};

const percentile = (value: unknown, key: 'p50' | 'p99'): number | null =>
  typeof value === 'object' && value !== null
    ? figure((value as Record<string, unknown>)[key])
    : null;

/**
 * A sample from one health check: what the processor reported, checked field by field, and the
 * fleet's counts (unknown when not given: alert rules evaluate a sample without them).
 */
export function sampleOf(
  observation: PlatformHealthObservation,
  fleet?: FleetCounts,
): PlatformMetricSample {
  const processor = observation.processor ?? {};
  return {
    platformId: observation.platform.id,
    sampledAt: observation.observedAt,
    status: observation.health.status,
    processorStartedAt: instant(processor.startedAt),
    messagesIn: figure(processor.messagesIn),
    readingsStored: figure(processor.readingsOut),
    messagesFailed: figure(processor.messagesFailed),
    queueDepth: figure(processor.queueDepth) ?? observation.health.queueDepth ?? null,
    lastReadingAt: instant(processor.lastReadingAt) ?? instant(observation.health.lastReadingAt),
    batchLatencyP50Ms: percentile(processor.batchLatencyMs, 'p50'),
    batchLatencyP99Ms: percentile(processor.batchLatencyMs, 'p99'),
    endToEndLatencyP50Ms: percentile(processor.endToEndLatencyMs, 'p50'),
    endToEndLatencyP99Ms: percentile(processor.endToEndLatencyMs, 'p99'),
    devicesOnline: fleet?.online ?? null,
    devicesTotal: fleet?.total ?? null,
    diskUsedPercent: figure(observation.health.disk?.usedPercent),
    diskBytesFree: figure(observation.health.disk?.bytesFree),
  };
}

type Counter = 'messagesIn' | 'readingsStored' | 'messagesFailed';

/** Per second between two samples of the same processor run; null when unknown or reset. */
export function ratePerSecond(
  previous: PlatformMetricSample | undefined,
  current: PlatformMetricSample,
  counter: Counter,
): number | null {
  if (!previous) return null;
  const before = previous[counter];
  const now = current[counter];
  const seconds = (current.sampledAt.getTime() - previous.sampledAt.getTime()) / 1000;
  if (before === null || now === null || seconds <= 0 || now < before) return null;
  if (previous.processorStartedAt?.getTime() !== current.processorStartedAt?.getTime()) return null;
  return (now - before) / seconds;
}

/**
 * Points for samples at or after `from`, oldest first. `samples` (oldest first) may start
 * before `from`: the sample just before the range gives the first point its rates.
 */
export function toSeries(samples: PlatformMetricSample[], from: Date): MetricPoint[] {
  const points: MetricPoint[] = [];
  samples.forEach((sample, index) => {
    if (sample.sampledAt < from) return;
    const previous = samples[index - 1];
    points.push({
      at: sample.sampledAt,
      status: sample.status,
      readingsInPerSecond: ratePerSecond(previous, sample, 'messagesIn'),
      readingsStoredPerSecond: ratePerSecond(previous, sample, 'readingsStored'),
      failedPerSecond: ratePerSecond(previous, sample, 'messagesFailed'),
      queueDepth: sample.queueDepth,
      lastReadingAt: sample.lastReadingAt,
      batchLatencyP50Ms: sample.batchLatencyP50Ms,
      batchLatencyP99Ms: sample.batchLatencyP99Ms,
      endToEndLatencyP50Ms: sample.endToEndLatencyP50Ms,
      endToEndLatencyP99Ms: sample.endToEndLatencyP99Ms,
      devicesOnline: sample.devicesOnline,
      devicesTotal: sample.devicesTotal,
      diskUsedPercent: sample.diskUsedPercent,
      diskBytesFree: sample.diskBytesFree,
    });
  });
  return points;
}
