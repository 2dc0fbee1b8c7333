import {
  DATABASE_NAME,
  PROCESSOR_DATABASE_ROLE,
  PROCESSOR_USER,
  type StackSpec,
} from '../spec/stack-spec';
import {
  DATABASE_SETUP_PASSWORD_VARIABLES,
  MONGO_ROOT_PASSWORD_VARIABLE,
  MONGO_ROOT_USER,
  databaseSetupFile,
} from '../database/render-database-setup';
import { GRAFANA_DASHBOARDS_PATH } from '../grafana/render-grafana';
import { RABBITMQ_CONTAINER_PATHS } from '../rabbitmq/render-rabbitmq';

/**
 * Secrets reach containers through the `.env` file next to the compose file (mode 0600), which
 * compose substitutes into `${...}`; the compose file itself holds none.
 */
export const ENV = {
  brokerAdminPassword: 'FIELDSTATION_BROKER_ADMIN_PASSWORD',
  processorBrokerPassword: 'FIELDSTATION_PROCESSOR_BROKER_PASSWORD',
  databasePassword: MONGO_ROOT_PASSWORD_VARIABLE,
  processorDatabasePassword: DATABASE_SETUP_PASSWORD_VARIABLES.processor,
  grafanaDatabasePassword: DATABASE_SETUP_PASSWORD_VARIABLES.grafana,
  grafanaAdminPassword: 'FIELDSTATION_GRAFANA_ADMIN_PASSWORD',
} as const;

const ref = (name: string) => `\${${name}}`;

const DISK_WATCH_DIR = 'disk-watch';
const PROCESSOR_DISK_WATCH_PATH = '/data-volume';

/** Data directories below the data volume, with the owner (uid:gid) each image runs as. */
export function dataDirectories(spec: StackSpec): { path: string; uid: number; gid: number }[] {
  const database = {
    postgres: { dir: 'postgres', uid: 999, gid: 999 },
    timescaledb: { dir: 'timescaledb', uid: 999, gid: 999 },
    influxdb: { dir: 'influxdb', uid: 1500, gid: 1500 },
    mongodb: { dir: 'mongodb', uid: 999, gid: 999 },
  }[spec.database];
  return [
    { path: `${spec.dataPath}/rabbitmq`, uid: 999, gid: 999 },
    { path: `${spec.dataPath}/${database.dir}`, uid: database.uid, gid: database.gid },
    { path: `${spec.dataPath}/grafana`, uid: 472, gid: 0 },
    // Empty, on the same filesystem: the processor reads the volume's use through it (statfs)
    // without seeing any database's files.
    { path: `${spec.dataPath}/${DISK_WATCH_DIR}`, uid: 0, gid: 0 },
  ];
}

const LOGGING = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } };

// A generous timeout: a check that starts a runtime (node, the Erlang VM, the influx CLI) can
// take seconds on a busy small VM, and a timed-out check counts as a failure.
function healthcheck(test: string[], startPeriod = '30s', timeout = '30s') {
  return { test, interval: '15s', timeout, retries: 5, start_period: startPeriod };
}

function published(port: number | null, containerPort: number): string[] {
  return port === null ? [] : [`${port}:${containerPort}`];
}

/**
 * Published on the host's loopback only: Docker's port rules bypass the host firewall, so an
 * admin interface published on 0.0.0.0 would face the internet. Reach it through SSH
 * (`ssh -L 15672:127.0.0.1:15672 <host>`).
 */
function publishedOnLoopback(port: number | null, containerPort: number): string[] {
  return port === null ? [] : [`127.0.0.1:${port}:${containerPort}`];
}

/** Where Grafana finds the platform's certificate and key (`grafana/tls/` of the stack). */
const GRAFANA_TLS_DIRECTORY = '/etc/grafana/tls';

/** With TLS on, Grafana serves HTTPS with the broker's certificate (same CA, same address). */
function grafanaHttps(spec: StackSpec): Record<string, string> {
  if (!spec.tls) return {};
  return {
    GF_SERVER_PROTOCOL: 'https',
    GF_SERVER_CERT_FILE: `${GRAFANA_TLS_DIRECTORY}/server.pem`,
    GF_SERVER_CERT_KEY: `${GRAFANA_TLS_DIRECTORY}/server.key`,
  };
}

function databaseService(spec: StackSpec): Record<string, unknown> {
  const base = { restart: 'unless-stopped', logging: LOGGING };
  switch (spec.database) {
    case 'postgres':
    case 'timescaledb':
      return {
        ...base,
        image: spec.database === 'postgres' ? spec.images.postgres : spec.images.timescaledb,
        environment: {
          POSTGRES_PASSWORD: ref(ENV.databasePassword),
          POSTGRES_DB: DATABASE_NAME,
          // A subdirectory: the volume's root may hold lost+found, which initdb refuses.
          PGDATA: '/var/lib/postgresql/data/pgdata',
        },
        volumes: [`${spec.dataPath}/${spec.database}:/var/lib/postgresql/data`],
        healthcheck: healthcheck(['CMD', 'pg_isready', '-U', 'postgres', '-d', DATABASE_NAME]),
      };
    case 'influxdb':
      return {
        ...base,
        image: spec.images.influxdb,
        environment: {
          INFLUXDB_DB: DATABASE_NAME,
          INFLUXDB_HTTP_AUTH_ENABLED: 'true',
          INFLUXDB_ADMIN_USER: 'admin',
          INFLUXDB_ADMIN_PASSWORD: ref(ENV.databasePassword),
          INFLUXDB_REPORTING_DISABLED: 'true',
        },
        volumes: [`${spec.dataPath}/influxdb:/var/lib/influxdb`],
        // The influx CLI reads credentials from INFLUX_USERNAME/INFLUX_PASSWORD, keeping them out of argv.
        healthcheck: healthcheck([
          'CMD-SHELL',
          'INFLUX_USERNAME=admin INFLUX_PASSWORD="$$INFLUXDB_ADMIN_PASSWORD" influx -host 127.0.0.1 -execute "SHOW DATABASES" > /dev/null',
        ]),
      };
    case 'mongodb':
      return {
        ...base,
        image: spec.images.mongodb,
        environment: {
          MONGO_INITDB_ROOT_USERNAME: MONGO_ROOT_USER,
          MONGO_INITDB_ROOT_PASSWORD: ref(ENV.databasePassword),
        },
        volumes: [`${spec.dataPath}/mongodb:/data/db`],
        healthcheck: healthcheck([
          'CMD',
          'mongosh',
          '--quiet',
          '--eval',
          "db.adminCommand('ping').ok",
        ]),
      };
  }
}

/**
 * Services that run once per `compose up` and exit: "exited (0)" is their healthy end state, which
 * whoever judges a platform's containers must know.
 */
export const ONE_SHOT_SERVICES: readonly string[] = ['database-setup'];

/**
 * The one-shot service that applies the rendered `database/setup.*` as the database's superuser,
 * with the CLI of the database's own image (psql, influx, mongosh), before the processor and
 * Grafana start: the readings table/database/collection and the two least-privileged users. Only
 * it and the database hold the superuser's password; every password reaches it through its
 * environment, none through its command line.
 */
function databaseSetupService(spec: StackSpec): Record<string, unknown> {
  const file = databaseSetupFile(spec.database);
  const passwords = {
    [ENV.processorDatabasePassword]: ref(ENV.processorDatabasePassword),
    [ENV.grafanaDatabasePassword]: ref(ENV.grafanaDatabasePassword),
  };
  const common = {
    // No restart policy: it runs once per `compose up` (a quoted 'no' would be read as a boolean by docker-compose 1.29).
    logging: LOGGING,
    volumes: [`./${file.stackPath}:${file.containerPath}:ro`],
    depends_on: { database: { condition: 'service_healthy' } },
  };
  switch (spec.database) {
    case 'postgres':
    case 'timescaledb':
      return {
        ...common,
        image: spec.database === 'postgres' ? spec.images.postgres : spec.images.timescaledb,
        environment: {
          PGHOST: 'database',
          PGUSER: 'postgres',
          PGDATABASE: DATABASE_NAME,
          PGPASSWORD: ref(ENV.databasePassword),
          ...passwords,
        },
        command: ['psql', '--no-psqlrc', `--file=${file.containerPath}`],
      };
    case 'influxdb':
      return {
        ...common,
        image: spec.images.influxdb,
        // The influx CLI logs in with INFLUX_USERNAME/INFLUX_PASSWORD.
        environment: {
          INFLUX_USERNAME: 'admin',
          INFLUX_PASSWORD: ref(ENV.databasePassword),
          ...passwords,
        },
        command: ['sh', file.containerPath],
      };
    case 'mongodb':
      return {
        ...common,
        image: spec.images.mongodb,
        environment: { [ENV.databasePassword]: ref(ENV.databasePassword), ...passwords },
        command: ['mongosh', '--nodb', '--quiet', '--file', file.containerPath],
      };
  }
}

/** What the processor and Grafana wait for: the database's setup (which waits for the database). */
const DATABASE_DEPENDENCY = {
  'database-setup': { condition: 'service_completed_successfully' },
} as const;

/** The processor connects as its least-privileged user (`database/setup.*`), never the superuser. */
function processorDatabaseEnvironment(spec: StackSpec): Record<string, string> {
  const password = ref(ENV.processorDatabasePassword);
  switch (spec.database) {
    case 'postgres':
    case 'timescaledb':
      return {
        DATABASE_KIND: spec.database,
        POSTGRES_URL: `postgres://${PROCESSOR_DATABASE_ROLE}:${password}@database:5432/${DATABASE_NAME}`,
      };
    case 'influxdb':
      return {
        DATABASE_KIND: 'influxdb',
        INFLUX_URL: 'http://database:8086',
        INFLUX_DATABASE: DATABASE_NAME,
        INFLUX_USERNAME: PROCESSOR_DATABASE_ROLE,
        INFLUX_PASSWORD: password,
      };
    case 'mongodb':
      return {
        DATABASE_KIND: 'mongodb',
        // The users live in the readings database (authSource), not in admin.
        MONGO_URL: `mongodb://${PROCESSOR_DATABASE_ROLE}:${password}@database:27017/${DATABASE_NAME}?authSource=${DATABASE_NAME}`,
        MONGO_DATABASE: DATABASE_NAME,
      };
  }
}

/** The compose definition (Compose Specification; accepted by docker-compose 1.29 and `docker compose`). */
export function renderCompose(spec: StackSpec): Record<string, unknown> {
  const rabbitmqVolumes = [
    `${spec.dataPath}/rabbitmq:/var/lib/rabbitmq`,
    `./rabbitmq/rabbitmq.conf:${RABBITMQ_CONTAINER_PATHS.config}:ro`,
    `./rabbitmq/enabled_plugins:${RABBITMQ_CONTAINER_PATHS.plugins}:ro`,
    `./rabbitmq/definitions.json:${RABBITMQ_CONTAINER_PATHS.definitions}:ro`,
    `./rabbitmq/advanced.config:${RABBITMQ_CONTAINER_PATHS.advancedConfig}:ro`,
  ];
  if (spec.tls) rabbitmqVolumes.push(`./rabbitmq/tls:${RABBITMQ_CONTAINER_PATHS.tlsDirectory}:ro`);

  const services: Record<string, unknown> = {
    rabbitmq: {
      image: spec.images.rabbitmq,
      // A fixed node name keeps the broker's data directory stable across container re-creation.
      hostname: 'rabbitmq',
      restart: 'unless-stopped',
      logging: LOGGING,
      volumes: rabbitmqVolumes,
      ports: [
        ...published(spec.ports.amqp, 5672),
        ...published(spec.ports.amqps, 5671),
        ...published(spec.ports.mqtt, 1883),
        ...published(spec.ports.mqtts, 8883),
        ...publishedOnLoopback(spec.ports.rabbitmqManagement, 15672),
      ],
      // The CLI boots an Erlang VM per check: seconds on a busy small VM, so a longer timeout.
      healthcheck: healthcheck(['CMD', 'rabbitmq-diagnostics', '-q', 'ping'], '60s'),
    },
    database: databaseService(spec),
    'database-setup': databaseSetupService(spec),
    processor: {
      image: spec.images.processor,
      build: { context: './processor', args: { NODE_IMAGE: spec.images.node } },
      restart: 'unless-stopped',
      logging: LOGGING,
      environment: {
        AMQP_URL: `amqp://${PROCESSOR_USER}:${ref(ENV.processorBrokerPassword)}@rabbitmq:5672`,
        ...processorDatabaseEnvironment(spec),
        SCRIPT_PATH: '/app/script/process.js',
        SCRIPT_TIMEOUT_MS: String(spec.processor.scriptTimeoutMs),
        PROCESSOR_BATCH_SIZE: String(spec.processor.batchSize),
        STATUS_PORT: '8080',
        DATA_VOLUME_PATH: PROCESSOR_DISK_WATCH_PATH,
      },
      // The script directory is mounted, so updating it is a file copy the processor hot-reloads.
      volumes: [
        './processor/script:/app/script:ro',
        `${spec.dataPath}/${DISK_WATCH_DIR}:${PROCESSOR_DISK_WATCH_PATH}:ro`,
      ],
      depends_on: {
        rabbitmq: { condition: 'service_healthy' },
        ...DATABASE_DEPENDENCY,
      },
      healthcheck: healthcheck([
        'CMD',
        'node',
        '-e',
        "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
      ]),
    },
    grafana: {
      image: spec.images.grafana,
      user: '472',
      restart: 'unless-stopped',
      logging: LOGGING,
      environment: {
        GF_SECURITY_ADMIN_USER: 'admin',
        GF_SECURITY_ADMIN_PASSWORD: ref(ENV.grafanaAdminPassword),
        GF_USERS_ALLOW_SIGN_UP: 'false',
        GF_AUTH_ANONYMOUS_ENABLED: 'false',
        GF_ANALYTICS_REPORTING_ENABLED: 'false',
        GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
        GF_PLUGINS_PREINSTALL_DISABLED: 'true',
        ...grafanaHttps(spec),
        // Expanded by Grafana inside the datasource provisioning file: its read-only user's password.
        [ENV.grafanaDatabasePassword]: ref(ENV.grafanaDatabasePassword),
      },
      volumes: [
        `${spec.dataPath}/grafana:/var/lib/grafana`,
        './grafana/provisioning:/etc/grafana/provisioning:ro',
        `./grafana/dashboards:${GRAFANA_DASHBOARDS_PATH}:ro`,
        ...(spec.tls ? [`./grafana/tls:${GRAFANA_TLS_DIRECTORY}:ro`] : []),
      ],
      // Plain HTTP Grafana (TLS off) would send its login in the clear: loopback only, via SSH.
      ports: spec.tls
        ? published(spec.ports.grafana, 3000)
        : publishedOnLoopback(spec.ports.grafana, 3000),
      depends_on: DATABASE_DEPENDENCY,
      healthcheck: healthcheck([
        'CMD-SHELL',
        // The certificate names the platform's address, not 127.0.0.1.
        `wget -q -O /dev/null ${spec.tls ? '--no-check-certificate https' : 'http'}://127.0.0.1:3000/api/health || exit 1`,
      ]),
    },
  };
  return { services };
}

export function renderEnvFile(spec: StackSpec): string {
  const lines = Object.entries(ENV).map(
    ([key, name]) => `${name}=${spec.secrets[key as keyof typeof ENV]}`,
  );
  return `# Secrets of this platform, substituted into docker-compose.yml. Keep this file mode 0600.\n${lines.join('\n')}\n`;
}
