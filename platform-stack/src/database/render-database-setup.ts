import { GRAFANA_DATABASE_ROLE, PROCESSOR_DATABASE_ROLE } from '../spec/stack-spec';

/** Where the compose file mounts the setup script inside the `database-setup` container. */
export const DATABASE_SETUP_CONTAINER_PATH = '/fieldstation/setup.sql';

/** The environment variables the setup script reads the roles' passwords from (psql `\getenv`). */
export const DATABASE_SETUP_PASSWORD_VARIABLES = {
  processor: 'FIELDSTATION_PROCESSOR_DATABASE_PASSWORD',
  grafana: 'FIELDSTATION_GRAFANA_DATABASE_PASSWORD',
} as const;

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
