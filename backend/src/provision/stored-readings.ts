import { DATABASE_NAME, type DatabaseChoice } from '@fieldstation/platform-stack';

/** One reading as the platform's database holds it. */
export interface StoredReading {
  /** ISO-8601, UTC. */
  time: string;
  measurement: string;
  device: string;
  data: Record<string, unknown>;
}

/**
 * Every query reads at most this many rows; callers cut to the count asked for. The limit is part
 * of the constant query text, so nothing a user sends ever becomes part of a command.
 */
export const STORED_READINGS_MAX = 100;

const POSTGRES_QUERY =
  "SELECT json_build_object('time', time, 'measurement', measurement, 'device', device, 'data', data) " +
  `FROM readings ORDER BY time DESC LIMIT ${STORED_READINGS_MAX}`;

/** Per measurement (InfluxDB applies LIMIT to each series); merged and cut afterwards. */
const INFLUX_QUERY = `SELECT * FROM /.*/ ORDER BY time DESC LIMIT ${STORED_READINGS_MAX}`;

/** mongosh script: logs in as root with the container's own environment (nothing in argv). */
const MONGO_SCRIPT = `
const client = new Mongo('mongodb://127.0.0.1:27017');
client.getDB('admin').auth(process.env.MONGO_INITDB_ROOT_USERNAME, process.env.MONGO_INITDB_ROOT_PASSWORD);
client.getDB('${DATABASE_NAME}').getCollection('readings').find({}, { _id: 0 }).sort({ time: -1 }).limit(${STORED_READINGS_MAX})
  .forEach((r) => print(JSON.stringify({ time: r.time, measurement: r.meta.measurement, device: r.meta.device, data: r.data })));
`;

/**
 * The fixed command (run with `docker exec <database container>`) that prints the newest readings,
 * one JSON document per line (PostgreSQL, MongoDB) or the InfluxDB CLI's JSON answer.
 */
export function storedReadingsCommand(database: DatabaseChoice): string[] {
  switch (database) {
    case 'postgres':
    case 'timescaledb':
      return psqlCommand(POSTGRES_QUERY);
    case 'influxdb':
      // The CLI takes credentials from INFLUX_USERNAME/INFLUX_PASSWORD; the database name is "$1".
      return [
        'sh',
        '-ec',
        'INFLUX_USERNAME=admin INFLUX_PASSWORD="$INFLUXDB_ADMIN_PASSWORD" exec influx -host 127.0.0.1 -database "$1" -format json -precision rfc3339 -execute "$2"',
        'sh',
        DATABASE_NAME,
        INFLUX_QUERY,
      ];
    case 'mongodb':
      return ['mongosh', '--nodb', '--quiet', '--eval', MONGO_SCRIPT];
  }
}

interface InfluxAnswer {
  results?: {
    error?: string;
    series?: { name: string; columns: string[]; values: unknown[][] }[];
  }[];
  error?: string;
}

/** Turns the command's output into readings, newest first, at most `limit`. */
export function parseStoredReadings(
  database: DatabaseChoice,
  stdout: string[],
  limit: number,
): StoredReading[] {
  const readings =
    database === 'influxdb' ? parseInflux(stdout.join('')) : stdout.flatMap(parseJsonLine);
  return readings.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
}

function parseJsonLine(line: string): StoredReading[] {
  if (!line.trim()) return [];
  const row = JSON.parse(line) as Record<string, unknown>;
  return [
    {
      time: new Date(String(row.time)).toISOString(),
      measurement: String(row.measurement),
      device: String(row.device),
      data: (row.data ?? {}) as Record<string, unknown>,
    },
  ];
}

/** Tags and fields arrive as columns: `device` is the tag, every non-null other column a field. */
function parseInflux(text: string): StoredReading[] {
  if (!text.trim()) return [];
  const answer = JSON.parse(text) as InfluxAnswer;
  const error = answer.error ?? answer.results?.find((result) => result.error)?.error;
  if (error) throw new Error(`InfluxDB: ${error}`);
  const readings: StoredReading[] = [];
  for (const series of answer.results?.flatMap((result) => result.series ?? []) ?? []) {
    for (const values of series.values) {
      const data: Record<string, unknown> = {};
      let time = '';
      let device = '';
      series.columns.forEach((column, index) => {
        const value = values[index];
        if (column === 'time') time = new Date(String(value)).toISOString();
        else if (column === 'device') device = String(value ?? '');
        else if (value !== null && value !== undefined) data[column] = value;
      });
      readings.push({ time, measurement: series.name, device, data });
    }
  }
  return readings;
}

/**
 * `psql` in the database container running one fixed statement: bare output, no psqlrc, and the
 * first error fails the command.
 */
export function psqlCommand(sql: string): string[] {
  return [
    'psql',
    '--username=postgres',
    `--dbname=${DATABASE_NAME}`,
    '--no-psqlrc',
    '--tuples-only',
    '--no-align',
    '--set=ON_ERROR_STOP=1',
    `--command=${sql}`,
  ];
}
