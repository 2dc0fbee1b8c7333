import { DATABASE_NAME, PROCESSOR_DATABASE_ROLE, type DatabaseChoice } from '../spec/stack-spec';
import { MONGO_ROOT_USER } from './render-database-setup';

/** Readings are kept at least a day and at most ten years; null keeps them for ever. */
export const READINGS_RETENTION_DAYS = { min: 1, max: 3650 } as const;

export class InvalidRetentionError extends Error {
  override readonly name = 'InvalidRetentionError';
}

/** Refuses anything but null or an integer number of days in range (the one check, used everywhere). */
export function checkRetentionDays(days: unknown): number | null {
  if (days === null) return null;
  const { min, max } = READINGS_RETENTION_DAYS;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < min || days > max) {
    throw new InvalidRetentionError(`must be null or a whole number of days from ${min} to ${max}`);
  }
  return days;
}

/** The plain-PostgreSQL function the processor calls on a schedule (batched delete). */
export const PRUNE_READINGS_FUNCTION = 'fieldstation_prune_readings';

/**
 * What applies a retention inside the platform's `database` container: a command (run with
 * `docker exec -i`) and the fixed text it reads on stdin. The number of days is checked first and
 * reaches SQL only as a psql variable (`-v days=N`, quoted by psql as `:'days'`); InfluxQL and
 * mongosh have no parameters for these statements, so there it is written from the checked integer.
 */
export function readingsRetentionCommand(
  database: DatabaseChoice,
  days: number | null,
): { argv: string[]; stdin: string } {
  const checked = checkRetentionDays(days);
  switch (database) {
    case 'postgres':
    case 'timescaledb':
      return {
        argv: [
          'psql',
          '--no-psqlrc',
          '--username=postgres',
          `--dbname=${DATABASE_NAME}`,
          '--set=ON_ERROR_STOP=1',
          `--set=days=${checked ?? ''}`,
          '--file=-',
        ],
        stdin: database === 'timescaledb' ? timescaleRetentionSql() : postgresRetentionSql(),
      };
    case 'influxdb':
      return {
        // The admin's password is in the container's environment, never in argv.
        argv: [
          'sh',
          '-ec',
          'INFLUX_USERNAME=admin INFLUX_PASSWORD="$INFLUXDB_ADMIN_PASSWORD" exec influx -host 127.0.0.1 -format csv',
        ],
        stdin: influxRetentionStatement(checked),
      };
    case 'mongodb':
      return {
        argv: ['mongosh', '--quiet', '--nodb', '--file=/dev/stdin'],
        stdin: mongoRetentionScript(checked),
      };
  }
}

/**
 * TimescaleDB: its own retention job drops whole chunks older than the interval (drop_chunks on a
 * schedule). Re-running replaces the policy; an empty `days` removes it.
 */
export function timescaleRetentionSql(): string {
  return `-- Fieldstation readings retention (TimescaleDB)
SELECT remove_retention_policy('readings', if_exists => TRUE);
SELECT add_retention_policy('readings', make_interval(days => NULLIF(:'days', '')::integer))
  WHERE NULLIF(:'days', '') IS NOT NULL;
`;
}

/**
 * Plain PostgreSQL has no retention job: the kept days live in a one-row table and a SECURITY
 * DEFINER function deletes one batch of older readings. The processor calls it periodically; its
 * role may EXECUTE it but still not DELETE, so it cannot choose what goes.
 */
export function postgresRetentionSql(): string {
  const processor = PROCESSOR_DATABASE_ROLE;
  return `-- Fieldstation readings retention (PostgreSQL)
CREATE TABLE IF NOT EXISTS fieldstation_readings_retention (
  single boolean PRIMARY KEY DEFAULT TRUE CHECK (single),
  days integer CHECK (days BETWEEN ${READINGS_RETENTION_DAYS.min} AND ${READINGS_RETENTION_DAYS.max})
);
INSERT INTO fieldstation_readings_retention (single, days) VALUES (TRUE, NULLIF(:'days', '')::integer)
  ON CONFLICT (single) DO UPDATE SET days = EXCLUDED.days;
CREATE OR REPLACE FUNCTION ${PRUNE_READINGS_FUNCTION}(batch integer) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $prune$
DECLARE
  kept_days integer;
  deleted integer;
BEGIN
  SELECT days INTO kept_days FROM fieldstation_readings_retention;
  IF kept_days IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM readings WHERE ctid IN (
    SELECT ctid FROM readings WHERE time < now() - make_interval(days => kept_days)
    LIMIT least(greatest(batch, 1), 100000)
  );
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$prune$;
REVOKE ALL ON FUNCTION ${PRUNE_READINGS_FUNCTION}(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${PRUNE_READINGS_FUNCTION}(integer) TO ${processor};
`;
}

/**
 * InfluxDB 1.x: the database's default retention policy (\`autogen\`) gets the duration; InfluxDB's
 * retention service drops expired shard groups itself. The shard duration follows InfluxDB's
 * guidance and must not exceed the duration.
 */
export function influxRetentionStatement(days: number | null, database = DATABASE_NAME): string {
  const checked = checkRetentionDays(days);
  const duration = checked === null ? 'INF' : `${checked}d`;
  const shard = checked === null || checked > 180 ? '7d' : checked < 2 ? '1h' : '1d';
  return `ALTER RETENTION POLICY "autogen" ON "${database}" DURATION ${duration} SHARD DURATION ${shard} DEFAULT\n`;
}

/**
 * MongoDB: the readings time-series collection expires documents itself (expireAfterSeconds);
 * "off" keeps them. Logs in as the root user with the password from the container's environment.
 */
export function mongoRetentionScript(days: number | null): string {
  const checked = checkRetentionDays(days);
  const expire = checked === null ? '"off"' : String(checked * 24 * 60 * 60);
  return `// Fieldstation readings retention (MongoDB)
const password = encodeURIComponent(process.env.MONGO_INITDB_ROOT_PASSWORD);
const db = connect(\`mongodb://${MONGO_ROOT_USER}:\${password}@127.0.0.1:27017/${DATABASE_NAME}?authSource=admin\`);
const result = db.runCommand({ collMod: 'readings', expireAfterSeconds: ${expire} });
if (result.ok !== 1) throw new Error(\`collMod failed: \${JSON.stringify(result)}\`);
`;
}
