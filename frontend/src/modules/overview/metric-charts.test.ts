import { describe, expect, it } from 'vitest';
import {
  countDevices,
  describeChart,
  formatFigure,
  seriesOf,
  sparklinePoints,
  summarizeLine,
  type MetricPoint,
} from './metric-charts';

const point = (at: string, fields: Partial<MetricPoint>): MetricPoint => ({
  at,
  status: 'healthy',
  readingsInPerSecond: null,
  readingsStoredPerSecond: null,
  failedPerSecond: null,
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
  ...fields,
});

describe('formatFigure', () => {
  it('rounds to 3 significant digits below 100, whole numbers above, grouped', () => {
    expect(formatFigure(0.123456, '/s')).toBe('0.123/s');
    expect(formatFigure(2.5, '/s')).toBe('2.5/s');
    expect(formatFigure(12_345.6, ' ms')).toBe('12,346 ms');
    expect(formatFigure(-0.00001)).toBe('-0.00001');
    expect(formatFigure(-0)).toBe('0');
  });

  it('shows a dash where nothing was measured', () => {
    expect(formatFigure(null, '/s')).toBe('—');
    expect(formatFigure(Number.NaN)).toBe('—');
  });
});

describe('chart series and their description', () => {
  const points = [
    point('2026-12-02T08:00:00Z', { readingsInPerSecond: null }),
    point('2026-12-02T08:01:00Z', { readingsInPerSecond: 3.5 }),
    point('2026-12-02T08:02:00Z', { readingsInPerSecond: 0 }),
    point('2026-12-02T08:03:00Z', { readingsInPerSecond: 2 }),
    point('2026-12-02T08:04:00Z', { readingsInPerSecond: null }),
  ];

  it('keeps every sample, null where unmeasured, x in epoch ms', () => {
    const series = seriesOf(points, 'readingsInPerSecond');
    expect(series.map((item) => item.y)).toEqual([null, 3.5, 0, 2, null]);
    expect(series[1]!.x).toBe(Date.parse('2026-12-02T08:01:00Z'));
  });

  it('summarizes the newest figure, the lowest and the highest', () => {
    expect(summarizeLine(seriesOf(points, 'readingsInPerSecond'), 'in')).toEqual({
      label: 'in',
      latest: 2,
      min: 0,
      max: 3.5,
      measured: 3,
    });
  });

  it('names the figures in words for screen readers', () => {
    const lines = [
      summarizeLine(seriesOf(points, 'readingsInPerSecond'), 'in'),
      summarizeLine(seriesOf(points, 'readingsStoredPerSecond'), 'stored'),
    ];
    expect(describeChart('Readings per second', '/s', 'the last hour', lines)).toBe(
      'Readings per second over the last hour: in now 2/s (lowest 0/s, highest 3.5/s).',
    );
    expect(describeChart('Queue depth', '', 'the last day', [lines[1]!])).toBe(
      'Queue depth over the last day: nothing measured yet.',
    );
  });
});

describe('live device counts', () => {
  it('counts connected devices among those not revoked', () => {
    const devices = [
      { status: 'active', online: true },
      { status: 'active', online: false },
      { status: 'revoked', online: null },
    ];
    expect(countDevices(devices, 5)).toEqual({ at: 5, online: 1, total: 2 });
  });

  it('does not guess when the broker could not be asked', () => {
    expect(countDevices([{ status: 'active', online: null }], 5)).toEqual({
      at: 5,
      online: null,
      total: 1,
    });
  });
});

describe('sparklinePoints', () => {
  it('spreads the figures over the width and scales them to the highest', () => {
    const points = [
      { at: '2026-12-02T08:00:00Z', value: 0 },
      { at: '2026-12-02T08:01:00Z', value: null },
      { at: '2026-12-02T08:02:00Z', value: 4 },
      { at: '2026-12-02T08:04:00Z', value: 2 },
    ];
    expect(sparklinePoints(points, 80, 20)).toBe('0,20 40,0 80,10');
  });

  it('draws a flat line for all zeros and nothing for fewer than two figures', () => {
    const zeros = [
      { at: '2026-12-02T08:00:00Z', value: 0 },
      { at: '2026-12-02T08:01:00Z', value: 0 },
    ];
    expect(sparklinePoints(zeros, 10, 5)).toBe('0,5 10,5');
    expect(sparklinePoints([{ at: '2026-12-02T08:00:00Z', value: 1 }], 10, 5)).toBe('');
  });
});
