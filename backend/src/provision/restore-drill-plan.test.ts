import { describe, expect, it } from 'vitest';
import { DRILLABLE_DATABASES, parseInfluxFigures, restoreDrillPlan } from './restore-drill-plan';

/** The SQL of a `psql --command=…` argument array, or the command's first word. */
const sqlOf = (command: string[]) =>
  command.find((argument) => argument.startsWith('--command='))?.slice(10) ?? command[0];

describe('restore drill plans', () => {
  it('drills PostgreSQL, TimescaleDB and InfluxDB; MongoDB has no plan', () => {
    expect([...DRILLABLE_DATABASES].sort()).toEqual(['influxdb', 'postgres', 'timescaledb']);
    expect(restoreDrillPlan('mongodb')).toBeNull();
  });

  it("wraps TimescaleDB's pg_restore in timescaledb_pre_restore() and timescaledb_post_restore(), in that order", () => {
    const postgres = restoreDrillPlan('postgres')!;
    const timescale = restoreDrillPlan('timescaledb')!;
    expect(timescale.prepare.map(sqlOf)).toEqual([
      'createdb',
      'CREATE EXTENSION IF NOT EXISTS timescaledb',
      'SELECT timescaledb_pre_restore()',
    ]);
    expect(timescale.load).toEqual(postgres.load);
    expect(timescale.load.slice(0, 1)).toEqual(['pg_restore']);
    expect(timescale.load).toContain('--exit-on-error');
    expect(timescale.finish.map(sqlOf)).toEqual(['SELECT timescaledb_post_restore()']);
    expect(timescale.figures).toEqual(postgres.figures);
    // Every psql stops at the first error (a missing extension fails the drill).
    for (const command of [...timescale.prepare.slice(1), ...timescale.finish]) {
      expect(command).toContain('--set=ON_ERROR_STOP=1');
    }
    // Plain PostgreSQL has neither call.
    expect(postgres.prepare.map(sqlOf)).toEqual(['createdb']);
    expect(postgres.finish).toEqual([]);
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
    expect(() => parseInfluxFigures('{"results":[{}]}\n')).toThrow('fewer results');
  });
});
