import { DATABASE_NAME, type DatabaseChoice } from '@fieldstation/platform-stack';
import { psqlCommand } from './stored-readings';

/** What a restore drill's scratch copy holds: its readings and the newest one's time. */
export interface RestoreDrillFigures {
  readingsCount: number;
  /** ISO-8601, UTC; null when the copy holds no reading. */
  newestReadingAt: string | null;
}

/**
 * Every command of one database's restore drill, as argument arrays run with `docker exec` in the
 * scratch container (PlatformHost.restoreDrill adds `docker run`/`exec` and the container name).
 * Nothing here comes from a request: the database name is a constant, the rest is fixed text.
 */
export interface RestoreDrillPlan {
  /** `docker run` options before the image (beside name, label and `--network none`). */
  runOptions: string[];
  /** Exits 0 once the scratch database serves (the wait is bounded inside the command). */
  ready: string[];
  /** Run in order after `ready`, before the dump is loaded. */
  prepare: string[][];
  /** Reads the whole dump (plaintext, as dump.yml wrote it) on stdin and loads it. */
  load: string[];
  /** What `load` runs, for the deployment log. */
  loaderName: string;
  /** Run in order after the load. */
  finish: string[][];
  /** Prints what {@link RestoreDrillPlan.parseFigures} reads, on stdout. */
  figures: string[];
  parseFigures(stdout: string): RestoreDrillFigures;
}

/**
 * Waits (inside the scratch container) until PostgreSQL accepts TCP on its loopback: the official
 * entrypoint's init-time server listens on the socket only, so the socket alone could answer early.
 */
const POSTGRES_READY_SCRIPT =
  'until pg_isready --host=127.0.0.1 --username=postgres --quiet; do sleep 0.5; done';
const POSTGRES_FIGURES_QUERY =
  "SELECT json_build_object('count', count(*), 'newest', to_char(max(time) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) FROM readings";

/** Owners and grants name the platform's roles, which the scratch database does not have. */
const PG_RESTORE = [
  'pg_restore',
  '--username=postgres',
  `--dbname=${DATABASE_NAME}`,
  '--no-owner',
  '--no-privileges',
  '--exit-on-error',
];

function parsePostgresFigures(stdout: string): RestoreDrillFigures {
  const figures = JSON.parse(stdout) as { count: number; newest: string | null };
  return { readingsCount: Number(figures.count), newestReadingAt: figures.newest };
}

const POSTGRES_PLAN: RestoreDrillPlan = {
  // The image's entrypoint wants a superuser password. This one opens nothing: no network, and
  // every command uses the local socket (trust), which only `docker exec` reaches.
  runOptions: ['--env', 'POSTGRES_PASSWORD=drill-no-network'],
  ready: ['timeout', '300', 'sh', '-c', POSTGRES_READY_SCRIPT],
  prepare: [['createdb', '--username=postgres', DATABASE_NAME]],
  load: PG_RESTORE,
  loaderName: 'pg_restore',
  finish: [],
  figures: psqlCommand(POSTGRES_FIGURES_QUERY),
  parseFigures: parsePostgresFigures,
};

/**
 * TimescaleDB: PostgreSQL's plan (a plain pg_restore, no TimescaleDB calls), as the platform's own
 * restore (restore.yml) has none either: the drill tries what a real restore would do. TimescaleDB is
 * not in the test environment, so this has not run against it.
 */
const TIMESCALEDB_PLAN: RestoreDrillPlan = POSTGRES_PLAN;

/**
 * Waits until influxd answers on the container's loopback. HTTP opens after the RPC listener
 * `influxd restore` talks to, so an answer means both serve.
 */
const INFLUX_READY_SCRIPT =
  'until influx -host 127.0.0.1 -execute "SHOW DATABASES" >/dev/null 2>&1; do sleep 0.5; done';

/**
 * restore.yml's InfluxDB restore from stdin: the tar of `influxd backup -portable` unpacked into a
 * fresh directory, `influxd restore -portable -db "$1"` (the scratch server has no database yet,
 * so nothing to drop). Fixed text; the database name is "$1".
 */
const INFLUX_LOAD_SCRIPT = [
  'dir=$(mktemp -d)',
  'tar -C "$dir" -xf -',
  'influxd restore -portable -db "$1" "$dir"',
  'rm -rf "$dir"',
].join('\n');

/**
 * Per measurement, the count of every field, then each measurement's newest row. A reading is a
 * point (measurement, device tag, time) with one field per data entry; InfluxQL has no count of
 * points, so a measurement's readings are its most frequent field's count.
 */
const INFLUX_COUNTS_QUERY = 'SELECT count(*) FROM /.*/';
const INFLUX_NEWEST_QUERY = 'SELECT * FROM /.*/ ORDER BY time DESC LIMIT 1';

/**
 * Both queries, one CLI run each (its JSON has no statement ids), one answer per line. Fixed
 * text; the database name and the queries are "$1".."$3".
 */
const INFLUX_FIGURES_SCRIPT = [
  'influx -host 127.0.0.1 -database "$1" -format json -precision rfc3339 -execute "$2"',
  'echo',
  'influx -host 127.0.0.1 -database "$1" -format json -precision rfc3339 -execute "$3"',
].join('\n');

interface InfluxSeries {
  name: string;
  columns: string[];
  values: unknown[][];
}
interface InfluxAnswer {
  results?: { error?: string; series?: InfluxSeries[] }[];
  error?: string;
}

/**
 * The InfluxDB CLI's two JSON answers (counts, newest rows; one line each): readings = the sum over
 * measurements of the largest field count (exact when every reading of a measurement carries the
 * same fields, as a device's readings usually do; otherwise a lower bound), newest = the latest
 * row's time over all measurements.
 */
export function parseInfluxFigures(stdout: string): RestoreDrillFigures {
  const lines = stdout.split('\n').filter((line) => line.trim());
  if (lines.length !== 2) {
    throw new Error(
      `InfluxDB answered ${lines.length} lines where 2 were asked: ${stdout.slice(0, 200)}`,
    );
  }
  const seriesOf = (line: string) => {
    const answer = JSON.parse(line) as InfluxAnswer;
    const error = answer.error ?? answer.results?.find((result) => result.error)?.error;
    if (error) throw new Error(`InfluxDB: ${error}`);
    return (answer.results ?? []).flatMap((result) => result.series ?? []);
  };
  const [counts, newest] = [seriesOf(lines[0]!), seriesOf(lines[1]!)];
  let readingsCount = 0;
  for (const series of counts) {
    const row = series.values[0] ?? [];
    const fieldCounts = series.columns
      .map((column, index) => (column.startsWith('count_') ? Number(row[index]) : 0))
      .filter((count) => Number.isFinite(count));
    readingsCount += Math.max(0, ...fieldCounts);
  }
  let newestMs: number | null = null;
  for (const series of newest) {
    const timeIndex = series.columns.indexOf('time');
    for (const row of series.values) {
      const ms = Date.parse(String(row[timeIndex]));
      if (Number.isNaN(ms))
        throw new Error(`InfluxDB answered a time that is not one: ${row[timeIndex]}`);
      if (newestMs === null || ms > newestMs) newestMs = ms;
    }
  }
  return {
    readingsCount,
    newestReadingAt: newestMs === null ? null : new Date(newestMs).toISOString(),
  };
}

const INFLUXDB_PLAN: RestoreDrillPlan = {
  // influxd itself, not the image's entrypoint: an entrypoint may run a first-start server that
  // it stops again, which the wait below could mistake for the real one. No auth: the default
  // configuration's, and nothing but `docker exec` reaches the container (no usage reports either).
  runOptions: ['--entrypoint', 'influxd', '--env', 'INFLUXDB_REPORTING_DISABLED=true'],
  ready: ['timeout', '300', 'sh', '-c', INFLUX_READY_SCRIPT],
  prepare: [],
  load: ['sh', '-ec', INFLUX_LOAD_SCRIPT, 'sh', DATABASE_NAME],
  loaderName: 'influxd restore -portable',
  finish: [],
  figures: [
    'sh',
    '-ec',
    INFLUX_FIGURES_SCRIPT,
    'sh',
    DATABASE_NAME,
    INFLUX_COUNTS_QUERY,
    INFLUX_NEWEST_QUERY,
  ],
  parseFigures: parseInfluxFigures,
};

const PLANS: Partial<Record<DatabaseChoice, RestoreDrillPlan>> = {
  postgres: POSTGRES_PLAN,
  timescaledb: TIMESCALEDB_PLAN,
  influxdb: INFLUXDB_PLAN,
};

/** The databases a restore drill can restore (MongoDB is not one yet). */
export const DRILLABLE_DATABASES: readonly DatabaseChoice[] = Object.keys(
  PLANS,
) as DatabaseChoice[];

/** The drill's commands for this database; null when drills do not cover it. */
export function restoreDrillPlan(database: DatabaseChoice): RestoreDrillPlan | null {
  return PLANS[database] ?? null;
}
