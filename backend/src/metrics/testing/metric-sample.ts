import type { PlatformMetricSample } from '../platform-metric-sample.entity';

/**
 * A healthy platform's metric sample of platform `p` with every figure unknown (null) but the
 * ones given: for the pure tests of the metrics series and of alert evaluation.
 */
export function metricSample(
  sampledAt: Date,
  processorStartedAt: Date,
  figures: Partial<PlatformMetricSample> = {},
): PlatformMetricSample {
  return {
    platformId: 'p',
    sampledAt,
    status: 'healthy',
    processorStartedAt,
    messagesIn: null,
    readingsStored: null,
    messagesFailed: null,
    queueDepth: null,
    lastReadingAt: null,
    batchLatencyP50Ms: null,
    batchLatencyP99Ms: null,
    endToEndLatencyP50Ms: null,
    endToEndLatencyP99Ms: null,
    devicesOnline: null,
    devicesTotal: null,
    diskUsedPercent: null,
    diskBytesFree: null,
    ...figures,
  };
}
