import type { Schemas } from '../../api/client';

export type MetricPoint = Schemas['MetricPointDto'];
export type MetricKey = Exclude<keyof MetricPoint, 'at' | 'status' | 'lastReadingAt'>;

/** One line of a chart: a figure of the sampled history. */
export interface ChartLine {
  key: MetricKey;
  label: string;
}

/** One small chart of the Overview tab. */
export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  lines: ChartLine[];
}

export const OVERVIEW_CHARTS: ChartSpec[] = [
  {
    id: 'readings',
    title: 'Readings per second',
    unit: '/s',
    lines: [
      { key: 'readingsInPerSecond', label: 'in' },
      { key: 'readingsStoredPerSecond', label: 'stored' },
    ],
  },
  {
    id: 'failed',
    title: 'Failed readings per second',
    unit: '/s',
    lines: [{ key: 'failedPerSecond', label: 'dead-lettered' }],
  },
  {
    id: 'queue',
    title: 'Queue depth',
    unit: '',
    lines: [{ key: 'queueDepth', label: 'waiting' }],
  },
  {
    id: 'latency',
    title: 'End-to-end latency',
    unit: ' ms',
    lines: [
      { key: 'endToEndLatencyP50Ms', label: 'p50' },
      { key: 'endToEndLatencyP99Ms', label: 'p99' },
    ],
  },
  {
    id: 'devices',
    title: 'Devices online',
    unit: '',
    lines: [
      { key: 'devicesOnline', label: 'online' },
      { key: 'devicesTotal', label: 'total' },
    ],
  },
  {
    id: 'disk',
    // The platform is degraded from 85 %; ingest pauses at 95 % (readings wait in the broker).
    title: 'Data volume used',
    unit: ' %',
    lines: [{ key: 'diskUsedPercent', label: 'used' }],
  },
];

/** A line's points for the chart: x in epoch milliseconds, y null where nothing was measured. */
export interface SeriesPoint {
  x: number;
  y: number | null;
}

export function seriesOf(points: MetricPoint[], key: MetricKey): SeriesPoint[] {
  return points.map((point) => ({ x: Date.parse(point.at), y: point[key] }));
}

/** A figure as people read it: up to 3 significant digits, thousands grouped, no "-0". */
export function formatFigure(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text =
    value === 0
      ? '0'
      : Math.abs(value) >= 100
        ? Math.round(value).toLocaleString('en-US')
        : value.toLocaleString('en-US', { maximumSignificantDigits: 3 });
  return `${text}${unit}`;
}

export interface LineSummary {
  label: string;
  latest: number | null;
  min: number | null;
  max: number | null;
  /** How many points have a figure. */
  measured: number;
}

/** Latest, lowest and highest figure of a line; the latest is the newest point with a figure. */
export function summarizeLine(points: SeriesPoint[], label: string): LineSummary {
  const values = points.map((point) => point.y).filter((y): y is number => y !== null);
  return {
    label,
    latest: values.at(-1) ?? null,
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
    measured: values.length,
  };
}

/**
 * What a chart shows, in words (its accessible name): "Readings per second over the last hour:
 * in now 2/s (lowest 0/s, highest 3.5/s); stored …", or that nothing was measured.
 */
export function describeChart(
  title: string,
  unit: string,
  rangeLabel: string,
  lines: LineSummary[],
): string {
  const measured = lines.filter((line) => line.measured > 0);
  if (measured.length === 0) return `${title} over ${rangeLabel}: nothing measured yet.`;
  const parts = measured.map(
    (line) =>
      `${line.label} now ${formatFigure(line.latest, unit)} (lowest ${formatFigure(line.min, unit)}, highest ${formatFigure(line.max, unit)})`,
  );
  return `${title} over ${rangeLabel}: ${parts.join('; ')}.`;
}

/** Devices connected now, out of the devices that may connect (revoked ones aside). */
export interface DeviceCount {
  at: number;
  online: number | null;
  total: number;
}

export function countDevices(
  devices: { status: string; online: boolean | null }[],
  at: number,
): DeviceCount {
  const active = devices.filter((device) => device.status !== 'revoked');
  const known = active.every((device) => device.online !== null);
  return {
    at,
    online: known ? active.filter((device) => device.online).length : null,
    total: active.length,
  };
}

/**
 * An SVG polyline's points for a sparkline `width`×`height`: x over the series' time span, y
 * from 0 to the highest figure (a flat 0 line when all are 0). Points without a figure are left
 * out; fewer than two figures draw nothing.
 */
export function sparklinePoints(
  points: { at: string; value: number | null }[],
  width: number,
  height: number,
): string {
  const measured = points
    .filter((point): point is { at: string; value: number } => point.value !== null)
    .map((point) => ({ x: Date.parse(point.at), y: point.value }));
  if (measured.length < 2) return '';
  const first = measured[0]!.x;
  const span = measured.at(-1)!.x - first || 1;
  const top = Math.max(...measured.map((point) => point.y)) || 1;
  const round = (value: number) => Math.round(value * 10) / 10;
  return measured
    .map(
      (point) =>
        `${round(((point.x - first) / span) * width)},${round(height - (point.y / top) * height)}`,
    )
    .join(' ');
}
