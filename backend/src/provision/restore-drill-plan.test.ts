import { describe, expect, it } from 'vitest';
import { DRILLABLE_DATABASES, parseInfluxFigures, restoreDrillPlan } from './restore-drill-plan';

describe('restore drill plans', () => {
  it('drills PostgreSQL, TimescaleDB and InfluxDB; MongoDB has no plan', () => {
    expect([...DRILLABLE_DATABASES].sort()).toEqual(['influxdb', 'postgres', 'timescaledb']);
    expect(restoreDrillPlan('mongodb')).toBeNull();
  });

  it("restores TimescaleDB exactly as PostgreSQL, the pg_restore the platform's own restore runs", () => {
    const postgres = restoreDrillPlan('postgres')!;
    const timescale = restoreDrillPlan('timescaledb')!;
    expect(timescale).toEqual(postgres);
    expect(timescale.load.slice(0, 1)).toEqual(['pg_restore']);
    expect(timescale.load).toContain('--exit-on-error');
  });
  it('restores InfluxDB as restore.yml does (tar from stdin, influxd restore -portable -db) with influxd as the entrypoint', () => {
    const influx = restoreDrillPlan('influxdb')!;
    expect(influx.runOptions.slice(0, 2)).toEqual(['--entrypoint', 'influxd']);
    expect(influx.load.slice(0, 2)).toEqual(['sh', '-ec']);
    expect(influx.load[2]).toContain('tar -C "$dir" -xf -');
    expect(influx.load[2]).toContain('influxd restore -portable -db "$1" "$dir"');
    expect(influx.load.slice(3)).toEqual(['sh', 'telemetry']);
  });

  it('counts InfluxDB readings per measurement by its most frequent field and takes the newest row over all measurements', () => {
    // As the influx CLI prints them: one JSON answer per run, chunked (one result per series).
    const counts = {
      results: [
        {
          series: [
            {
              name: 'climate',
              columns: ['time', 'count_humidity', 'count_temperature'],
              values: [['1970-01-01T00:00:00Z', 40, 42]],
            },
          ],
        },
        {
          series: [
            {
              name: 'door',
              columns: ['time', 'count_open'],
              values: [['1970-01-01T00:00:00Z', 7]],
            },
          ],
        },
      ],
    };
    const newest = {
      results: [
        {
          series: [
            {
              name: 'climate',
              columns: ['time', 'device', 'humidity', 'temperature'],
              values: [['2026-12-02T10:00:00.5Z', 'a', 50, 21.5]],
            },
            {
              name: 'door',
              columns: ['time', 'device', 'open'],
              values: [['2026-12-02T10:00:01.25Z', 'b', true]],
            },
          ],
        },
      ],
    };
    expect(parseInfluxFigures(`${JSON.stringify(counts)}\n\n${JSON.stringify(newest)}\n`)).toEqual({
      readingsCount: 49,
      newestReadingAt: '2026-12-02T10:00:01.250Z',
    });
  });

  it('reads an empty InfluxDB copy as no readings, and refuses an error or a short answer', () => {
    expect(parseInfluxFigures('{"results":[{}]}\n{"results":[{}]}\n')).toEqual({
      readingsCount: 0,
      newestReadingAt: null,
    });
    expect(() =>
      parseInfluxFigures(
        '{"results":[{"error":"database not found: telemetry"}]}\n{"results":[{}]}\n',
      ),
    ).toThrow('InfluxDB: database not found: telemetry');
    expect(() => parseInfluxFigures('{"results":[{}]}\n')).toThrow(
      'answered 1 lines where 2 were asked',
    );
  });
});
