import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram';

describe('LatencyHistogram', () => {
  it('reports percentiles within 5 %', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
    expect(histogram.percentile(50)).toBeGreaterThanOrEqual(500);
    expect(histogram.percentile(50)).toBeLessThanOrEqual(525);
    expect(histogram.percentile(99)).toBeGreaterThanOrEqual(990);
    expect(histogram.percentile(99)).toBeLessThanOrEqual(1040);
  });

  it('is empty before the first sample', () => {
    expect(new LatencyHistogram().percentile(50)).toBeNull();
  });
});
