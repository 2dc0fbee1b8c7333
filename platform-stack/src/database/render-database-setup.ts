import {
  DATABASE_NAME,
  GRAFANA_DATABASE_ROLE,
  PROCESSOR_DATABASE_ROLE,
  type DatabaseChoice,
} from '../spec/stack-spec';

/** The setup file of each database: where it is rendered in the stack and mounted in `database-setup`. */
export function databaseSetupFile(database: DatabaseChoice): {
  stackPath: string;
  containerPath: string;
} {
  const name = {
    postgres: 'setup.sql',
    timescaledb: 'setup.sql',
    influxdb: 'setup.sh',
    mongodb: 'setup.js',
  }[database];
  return { stackPath: `database/${name}`, containerPath: `/fieldstation/${name}` };
}

/** The setup file's content for the chosen database (none holds a secret). */
export function renderDatabaseSetup(database: DatabaseChoice): string {
  switch (database) {
    case 'postgres':
    case 'timescaledb':
      return renderPostgresSetup();
    case 'influxdb':
      return renderInfluxSetup();
    case 'mongodb':
      return renderMongoSetup();
  }
}

/** The environment variables the setup reads the roles' passwords from (psql `\getenv`, sh, mongosh). */
export const DATABASE_SETUP_PASSWORD_VARIABLES = {
  processor: 'FIELDSTATION_PROCESSOR_DATABASE_PASSWORD',
  grafana: 'FIELDSTATION_GRAFANA_DATABASE_PASSWORD',
} as const;

/** The database's superuser password in the setup container's environment (InfluxDB, MongoDB). */
export const MONGO_ROOT_PASSWORD_VARIABLE = 'FIELDSTATION_DATABASE_PASSWORD';
/** The root user the mongo image creates on its first start (MONGO_INITDB_ROOT_USERNAME). */
export const MONGO_ROOT_USER = 'fieldstation';

/**
 * The PostgreSQL/TimescaleDB setup that the one-shot `database-setup` service applies with psql as
 * the superuser on every `compose up` (so existing platforms get it too; every statement is
 * idempotent): the readings table, and two least-privileged login roles. The processor's role may
 * only INSERT into `readings` (COPY … FROM STDIN needs nothing more); Grafana's may only SELECT
 * from it. Neither may create objects. The passwords come from the container's environment via
 * `\getenv`: they are in neither this file nor any process's arguments.
 */
export function renderPostgresSetup(): string {
  const processor = PROCESSOR_DATABASE_ROLE;
  const grafana = GRAFANA_DATABASE_ROLE;
  return `-- Fieldstation database setup (rendered; applied by the database-setup service on every start).
\\set ON_ERROR_STOP on
\\getenv processor_password ${DATABASE_SETUP_PASSWORD_VARIABLES.processor}
\\getenv grafana_password ${DATABASE_SETUP_PASSWORD_VARIABLES.grafana}

SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS timescaledb_available \\gset
\\if :timescaledb_available
CREATE EXTENSION IF NOT EXISTS timescaledb;
\\endif
CREATE TABLE IF NOT EXISTS readings (
  time timestamptz NOT NULL,
  measurement text NOT NULL,
  device text NOT NULL,
  data jsonb NOT NULL
);
\\if :timescaledb_available
SELECT create_hypertable('readings', 'time', if_not_exists => TRUE);
\\endif
CREATE INDEX IF NOT EXISTS readings_measurement_device_time ON readings (measurement, device, time DESC);

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${processor}') AS create_processor_role \\gset
\\if :create_processor_role
CREATE ROLE ${processor};
\\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${grafana}') AS create_grafana_role \\gset
\\if :create_grafana_role
CREATE ROLE ${grafana};
\\endif
ALTER ROLE ${processor} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD :'processor_password';
ALTER ROLE ${grafana} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD :'grafana_password';

-- Only what is granted below: no objects of their own, no other tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO ${processor}, ${grafana};
GRANT USAGE ON SCHEMA public TO ${processor}, ${grafana};
REVOKE ALL ON readings FROM ${processor}, ${grafana};
GRANT INSERT ON readings TO ${processor};
GRANT SELECT ON readings TO ${grafana};
`;
}

/**
 * The InfluxDB 1.x setup: a POSIX sh script the one-shot `database-setup` service runs in the
 * database's own image on every `compose up`, with the `influx` CLI as the admin (INFLUX_USERNAME
 * and INFLUX_PASSWORD from the container's environment). Statements reach the CLI on stdin (it
 * reads them there when stdin is no terminal), so no password is in any process's arguments; the
 * users' passwords come from the environment too. It creates `telemetry` and two non-admin users
 * (creating them or resetting their password), then sets each one's only privilege: `WRITE` on
 * `telemetry` for the processor (no reading, no admin statement: no DROP MEASUREMENT/DATABASE, no
 * user management), `READ` for Grafana. InfluxDB 1.x's `WRITE` also allows DELETE, DROP SERIES and
 * DROP RETENTION POLICY on that database (influxql's RequiredPrivileges): no narrower grant exists.
 */
export function renderInfluxSetup(): string {
  const processor = PROCESSOR_DATABASE_ROLE;
  const grafana = GRAFANA_DATABASE_ROLE;
  const variables = DATABASE_SETUP_PASSWORD_VARIABLES;
  return `#!/bin/sh
# Fieldstation InfluxDB setup (rendered; applied by the database-setup service on every start).
set -eu
# Statements go to the CLI on stdin, so no password is on a command line.
influxql() { influx -host database -port 8086 -format csv; }
ensure_user() {
  # Passwords are URL-safe by construction: nothing in them can end an InfluxQL string.
  case "$2" in
    '' | *[!A-Za-z0-9_-]*) echo "the password of $1 is empty or not URL-safe" >&2; exit 1 ;;
  esac
  if printf '%s\\n' "$users" | grep -q "^$1,"; then
    printf "SET PASSWORD FOR $1 = '%s'" "$2" | influxql
  else
    printf "CREATE USER $1 WITH PASSWORD '%s'" "$2" | influxql
  fi
}
# On its first start the database may pass its health check while its initialisation still runs
# on loopback only: wait until it answers on the network (at most about two minutes).
attempts=0
until answer="$(printf 'SHOW DATABASES' | influxql 2>&1)"; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 120 ]; then
    echo "InfluxDB at database:8086 did not answer: $answer" >&2
    exit 1
  fi
  sleep 1
done
printf 'CREATE DATABASE ${DATABASE_NAME}' | influxql
users="$(printf 'SHOW USERS' | influxql)"
ensure_user ${processor} "$${variables.processor}"
ensure_user ${grafana} "$${variables.grafana}"
# GRANT replaces the user's privilege on the database; REVOKE ALL PRIVILEGES takes admin rights.
printf '%s;\\n' \\
  'REVOKE ALL PRIVILEGES FROM ${processor}' \\
  'GRANT WRITE ON ${DATABASE_NAME} TO ${processor}' \\
  'REVOKE ALL PRIVILEGES FROM ${grafana}' \\
  'GRANT READ ON ${DATABASE_NAME} TO ${grafana}' | influxql
`;
}

/** The MongoDB role that may only insert into `readings` (and list the database's collections). */
export const MONGO_PROCESSOR_ROLE = 'fieldstation_insert_readings';

/**
 * The MongoDB setup: a mongosh script the one-shot `database-setup` service runs (`--nodb`) on
 * every `compose up`. It connects as the root user with the password from its environment (the
 * URL is built inside the script: no password in any process's arguments), creates the
 * `readings` time-series collection, a role that may only `insert` into it (plus
 * `listCollections`, which the processor's start-up check uses), and two users in `telemetry`:
 * the processor with that role, Grafana with `read` on the database. Existing ones are updated,
 * so passwords and privileges follow the platform's on every start.
 */
export function renderMongoSetup(): string {
  const variables = DATABASE_SETUP_PASSWORD_VARIABLES;
  return `// Fieldstation MongoDB setup (rendered; applied by the database-setup service on every start).
const rootPassword = process.env.${MONGO_ROOT_PASSWORD_VARIABLE};
const rootUrl = \`mongodb://${MONGO_ROOT_USER}:\${encodeURIComponent(rootPassword)}@database:27017/admin\`;
// On its first start the database may pass its health check while its initialisation still runs
// on loopback only: retry until it answers on the network (at most about two minutes).
const deadline = Date.now() + 120000;
let admin;
for (;;) {
  try {
    admin = connect(rootUrl);
    admin.runCommand({ ping: 1 });
    break;
  } catch (error) {
    if (Date.now() > deadline) throw error;
    sleep(1000);
  }
}
const telemetry = admin.getSiblingDB('${DATABASE_NAME}');
if (telemetry.getCollectionInfos({ name: 'readings' }).length === 0) {
  telemetry.createCollection('readings', {
    timeseries: { timeField: 'time', metaField: 'meta', granularity: 'seconds' },
  });
}
const insertReadings = {
  privileges: [
    { resource: { db: '${DATABASE_NAME}', collection: 'readings' }, actions: ['insert'] },
    { resource: { db: '${DATABASE_NAME}', collection: '' }, actions: ['listCollections'] },
  ],
  roles: [],
};
if (telemetry.getRole('${MONGO_PROCESSOR_ROLE}') === null) {
  telemetry.createRole({ role: '${MONGO_PROCESSOR_ROLE}', ...insertReadings });
} else {
  telemetry.updateRole('${MONGO_PROCESSOR_ROLE}', insertReadings);
}
const users = [
  {
    user: '${PROCESSOR_DATABASE_ROLE}',
    pwd: process.env.${variables.processor},
    roles: [{ role: '${MONGO_PROCESSOR_ROLE}', db: '${DATABASE_NAME}' }],
  },
  {
    user: '${GRAFANA_DATABASE_ROLE}',
    pwd: process.env.${variables.grafana},
    roles: [{ role: 'read', db: '${DATABASE_NAME}' }],
  },
];
for (const { user, pwd, roles } of users) {
  if (!pwd) throw new Error(\`no password for \${user} in the environment\`);
  if (telemetry.getUser(user) === null) telemetry.createUser({ user, pwd, roles });
  else telemetry.updateUser(user, { pwd, roles });
}
`;
}
