import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DATABASE_CHOICES,
  createCertificateAuthority,
  createStackSpec,
  generateStackSecrets,
  issueServerCertificate,
  renderStack,
  type BrokerTls,
  type RenderedStack,
  type StackSpec,
} from '../src';

const run = promisify(execFile);

interface ComposeService {
  image: string;
  restart: string;
  healthcheck: { test: string[] };
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}

function writeStack(stack: RenderedStack): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-stack-'));
  for (const file of stack.files) {
    mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    writeFileSync(path.join(dir, file.path), file.content, { mode: file.mode });
  }
  return dir;
}

describe('the compose definition', () => {
  let tls: BrokerTls;
  const dirs: string[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority('test');
    const server = await issueServerCertificate(ca, '203.0.113.7');
    tls = {
      caCertificatePem: ca.certificatePem,
      serverCertificatePem: server.certificatePem,
      serverPrivateKeyPem: server.privateKeyPem,
    };
  });

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const variants = DATABASE_CHOICES.flatMap((database) => [
    { database, tls: false },
    { database, tls: true },
  ]);

  it.each(variants)(
    'is accepted by `docker-compose config` for $database (TLS $tls)',
    async ({ database, tls: withTls }) => {
      const spec = createStackSpec({
        address: '203.0.113.7',
        database,
        secrets: generateStackSecrets(),
        tls: withTls ? tls : undefined,
        deviceUsers: [{ name: 'pi1', password: 'device-password-1' }],
      });
      const dir = writeStack(renderStack(spec));
      dirs.push(dir);
      // docker-compose 1.29 validates against the Compose Specification without a daemon.
      const { stdout } = await run(
        'docker-compose',
        ['--project-directory', dir, '-f', path.join(dir, 'docker-compose.yml'), 'config'],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '' },
        },
      );
      const resolved = parse(stdout) as { services: Record<string, ComposeService> };
      expect(Object.keys(resolved.services).sort()).toEqual([
        'database',
        'database-setup',
        'grafana',
        'processor',
        'rabbitmq',
      ]);
      for (const [name, service] of Object.entries(resolved.services)) {
        // The one-shot setup runs once per `compose up` and has nothing to report health on.
        if (name === 'database-setup') continue;
        expect(service.restart, name).toBe('unless-stopped');
        expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
      }
      // Secrets come from .env: substituted by compose, absent from the compose file itself.
      expect(resolved.services.processor.environment?.AMQP_URL).toContain(
        spec.secrets.processorBrokerPassword,
      );
      const composeText =
        renderStack(spec).files.find((file) => file.path === 'docker-compose.yml')?.content ?? '';
      for (const secret of Object.values(spec.secrets)) expect(composeText).not.toContain(secret);
    },
  );

  const composeOf = (spec: StackSpec) => {
    const stack = renderStack(spec);
    const compose = parse(stack.files[0].content) as {
      services: Record<string, ComposeService & { depends_on?: unknown; command?: string[] }>;
    };
    const holdersOf = (reference: string) =>
      Object.entries(compose.services)
        .filter(([, service]) => JSON.stringify(service).includes(reference))
        .map(([name]) => name)
        .sort();
    return { stack, compose, holdersOf };
  };

  it.each(DATABASE_CHOICES)(
    'gives the %s superuser password only to the database and its setup; the processor and Grafana use their own users',
    (database) => {
      const spec = createStackSpec({
        address: 'iot.example.org',
        database,
        secrets: generateStackSecrets(),
      });
      const { stack, compose, holdersOf } = composeOf(spec);
      expect(holdersOf('${FIELDSTATION_DATABASE_PASSWORD}')).toEqual([
        'database',
        'database-setup',
      ]);
      expect(holdersOf('${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}')).toEqual([
        'database-setup',
        'processor',
      ]);
      expect(holdersOf('${FIELDSTATION_GRAFANA_DATABASE_PASSWORD}')).toEqual([
        'database-setup',
        'grafana',
      ]);
      for (const name of ['processor', 'grafana']) {
        expect(compose.services[name].depends_on).toMatchObject({
          'database-setup': { condition: 'service_completed_successfully' },
        });
      }
      expect(compose.services['database-setup'].depends_on).toEqual({
        database: { condition: 'service_healthy' },
      });
      // The setup file is mounted where its command reads it, and holds no secret.
      const setupFiles = stack.files.filter((file) => file.path.startsWith('database/'));
      expect(setupFiles).toHaveLength(1);
      const [setup] = setupFiles;
      expect(setup.mode).toBe(0o644);
      const mounted = `/fieldstation/${path.basename(setup.path)}`;
      expect(compose.services['database-setup'].volumes).toEqual([`./${setup.path}:${mounted}:ro`]);
      expect(compose.services['database-setup'].command).toContain(
        database === 'postgres' || database === 'timescaledb' ? `--file=${mounted}` : mounted,
      );
      for (const secret of Object.values(spec.secrets)) {
        expect(setup.content).not.toContain(secret);
        expect(JSON.stringify(compose.services['database-setup'].command)).not.toContain(secret);
      }
      const processor = compose.services.processor.environment ?? {};
      expect(
        {
          postgres: processor.POSTGRES_URL,
          timescaledb: processor.POSTGRES_URL,
          influxdb: `${processor.INFLUX_USERNAME}:${processor.INFLUX_PASSWORD}`,
          mongodb: processor.MONGO_URL,
        }[database],
      ).toBe(
        {
          postgres:
            'postgres://fieldstation_processor:${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}@database:5432/telemetry',
          timescaledb:
            'postgres://fieldstation_processor:${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}@database:5432/telemetry',
          influxdb: 'fieldstation_processor:${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}',
          mongodb:
            'mongodb://fieldstation_processor:${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}@database:27017/telemetry?authSource=telemetry',
        }[database],
      );
    },
  );

  it.each(['postgres', 'timescaledb'] as const)(
    'sets up the %s roles with psql from the database image',
    (database) => {
      const spec = createStackSpec({
        address: 'iot.example.org',
        database,
        secrets: generateStackSecrets(),
      });
      const { stack, compose } = composeOf(spec);
      expect(compose.services['database-setup'].command).toEqual([
        'psql',
        '--no-psqlrc',
        '--file=/fieldstation/setup.sql',
      ]);
      const setup = stack.files.find((file) => file.path === 'database/setup.sql');
      expect(setup?.content).toContain('GRANT INSERT ON readings TO fieldstation_processor;');
    },
  );

  it('sets up the InfluxDB users with the influx CLI of the database image (tested for real in backend/src/provision/influx-database-users.test.ts)', () => {
    const spec = createStackSpec({
      address: 'iot.example.org',
      database: 'influxdb',
      secrets: generateStackSecrets(),
    });
    const { stack, compose } = composeOf(spec);
    const setupService = compose.services['database-setup'];
    expect(setupService.image).toBe(spec.images.influxdb);
    expect(setupService.command).toEqual(['sh', '/fieldstation/setup.sh']);
    expect(setupService.environment).toMatchObject({
      INFLUX_USERNAME: 'admin',
      INFLUX_PASSWORD: '${FIELDSTATION_DATABASE_PASSWORD}',
    });
    const setup = stack.files.find((file) => file.path === 'database/setup.sh')?.content ?? '';
    expect(setup).toContain('GRANT WRITE ON telemetry TO fieldstation_processor');
    expect(setup).toContain('GRANT READ ON telemetry TO fieldstation_grafana');
    expect(compose.services.processor.environment).toMatchObject({
      INFLUX_USERNAME: 'fieldstation_processor',
    });
  });

  // MongoDB cannot run here (DESIGN §9): this checks the generated setup's structure only.
  it('sets up the MongoDB users with mongosh from the database image (structure only: MongoDB cannot run here)', () => {
    const spec = createStackSpec({
      address: 'iot.example.org',
      database: 'mongodb',
      secrets: generateStackSecrets(),
    });
    const { stack, compose } = composeOf(spec);
    const setupService = compose.services['database-setup'];
    expect(setupService.image).toBe(spec.images.mongodb);
    expect(setupService.command).toEqual([
      'mongosh',
      '--nodb',
      '--quiet',
      '--file',
      '/fieldstation/setup.js',
    ]);
    expect(setupService.environment).toEqual({
      FIELDSTATION_DATABASE_PASSWORD: '${FIELDSTATION_DATABASE_PASSWORD}',
      FIELDSTATION_PROCESSOR_DATABASE_PASSWORD: '${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}',
      FIELDSTATION_GRAFANA_DATABASE_PASSWORD: '${FIELDSTATION_GRAFANA_DATABASE_PASSWORD}',
    });
    const setup = stack.files.find((file) => file.path === 'database/setup.js')?.content ?? '';
    // The script is valid JavaScript (mongosh parses it as such).
    expect(() => new Function(setup)).not.toThrow();
    // Its role: insert into readings (and list collections for the processor's start-up check).
    const role = /const insertReadings = (\{[\s\S]*?\n\});/.exec(setup)?.[1];
    expect(role && (new Function(`return ${role}`)() as unknown)).toEqual({
      privileges: [
        { resource: { db: 'telemetry', collection: 'readings' }, actions: ['insert'] },
        { resource: { db: 'telemetry', collection: '' }, actions: ['listCollections'] },
      ],
      roles: [],
    });
    expect(setup).toContain("roles: [{ role: 'fieldstation_insert_readings', db: 'telemetry' }]");
    expect(setup).toContain("user: 'fieldstation_grafana'");
    expect(setup).toContain("roles: [{ role: 'read', db: 'telemetry' }]");
    expect(setup).toContain('process.env.FIELDSTATION_PROCESSOR_DATABASE_PASSWORD');
  });

  // MongoDB cannot run here: the script runs against a recording stand-in for mongosh's `connect`
  // (a test double at a boundary that cannot exist here), on a fresh server and on a set-up one.
  it('the MongoDB setup waits for the database, creates the collection, role and users once and updates them on every later start (against a recording stand-in for mongosh)', () => {
    const spec = createStackSpec({
      address: 'iot.example.org',
      database: 'mongodb',
      secrets: generateStackSecrets(),
    });
    const setup =
      renderStack(spec).files.find((file) => file.path === 'database/setup.js')?.content ?? '';
    const env = {
      FIELDSTATION_DATABASE_PASSWORD: spec.secrets.databasePassword,
      FIELDSTATION_PROCESSOR_DATABASE_PASSWORD: spec.secrets.processorDatabasePassword,
      FIELDSTATION_GRAFANA_DATABASE_PASSWORD: spec.secrets.grafanaDatabasePassword,
    };
    const runAgainst = (existing: boolean, refusedConnections = 0) => {
      const calls: unknown[][] = [];
      let refusals = refusedConnections;
      const telemetry = {
        getCollectionInfos: () => (existing ? [{ name: 'readings' }] : []),
        createCollection: (...args: unknown[]) => calls.push(['createCollection', ...args]),
        getRole: (name: string) => (existing ? { role: name } : null),
        createRole: (...args: unknown[]) => calls.push(['createRole', ...args]),
        updateRole: (...args: unknown[]) => calls.push(['updateRole', ...args]),
        getUser: (name: string) => (existing ? { user: name } : null),
        createUser: (...args: unknown[]) => calls.push(['createUser', ...args]),
        updateUser: (...args: unknown[]) => calls.push(['updateUser', ...args]),
      };
      const connect = (url: string) => {
        calls.push(['connect', url]);
        if (refusals-- > 0) throw new Error('connect ECONNREFUSED');
        return {
          runCommand: (command: unknown) => calls.push(['runCommand', command]),
          getSiblingDB: (name: string) => (name === 'telemetry' ? telemetry : undefined),
        };
      };
      const sleep = (ms: number) => calls.push(['sleep', ms]);
      new Function('connect', 'sleep', 'process', setup)(connect, sleep, { env });
      return calls;
    };
    const role = {
      privileges: [
        { resource: { db: 'telemetry', collection: 'readings' }, actions: ['insert'] },
        { resource: { db: 'telemetry', collection: '' }, actions: ['listCollections'] },
      ],
      roles: [],
    };
    const processorRoles = [{ role: 'fieldstation_insert_readings', db: 'telemetry' }];
    const grafanaRoles = [{ role: 'read', db: 'telemetry' }];
    const root = `mongodb://fieldstation:${env.FIELDSTATION_DATABASE_PASSWORD}@database:27017/admin`;
    const connected = [
      ['connect', root],
      ['runCommand', { ping: 1 }],
    ];
    expect(runAgainst(false)).toEqual([
      ...connected,
      [
        'createCollection',
        'readings',
        { timeseries: { timeField: 'time', metaField: 'meta', granularity: 'seconds' } },
      ],
      ['createRole', { role: 'fieldstation_insert_readings', ...role }],
      [
        'createUser',
        {
          user: 'fieldstation_processor',
          pwd: env.FIELDSTATION_PROCESSOR_DATABASE_PASSWORD,
          roles: processorRoles,
        },
      ],
      [
        'createUser',
        {
          user: 'fieldstation_grafana',
          pwd: env.FIELDSTATION_GRAFANA_DATABASE_PASSWORD,
          roles: grafanaRoles,
        },
      ],
    ]);
    expect(runAgainst(true)).toEqual([
      ...connected,
      ['updateRole', 'fieldstation_insert_readings', role],
      [
        'updateUser',
        'fieldstation_processor',
        { pwd: env.FIELDSTATION_PROCESSOR_DATABASE_PASSWORD, roles: processorRoles },
      ],
      [
        'updateUser',
        'fieldstation_grafana',
        { pwd: env.FIELDSTATION_GRAFANA_DATABASE_PASSWORD, roles: grafanaRoles },
      ],
    ]);
    // A database still initialising on loopback refuses connections: the setup waits for it.
    expect(runAgainst(true, 2).slice(0, 6)).toEqual([
      ['connect', root],
      ['sleep', 1000],
      ['connect', root],
      ['sleep', 1000],
      ...connected,
    ]);
  });

  it('serves Grafana over HTTPS with the platform certificate when TLS is on', () => {
    for (const withTls of [false, true]) {
      const spec = createStackSpec({
        address: '203.0.113.7',
        database: 'postgres',
        secrets: generateStackSecrets(),
        tls: withTls ? tls : undefined,
      });
      const stack = renderStack(spec);
      const compose = parse(stack.files[0].content) as {
        services: Record<string, ComposeService>;
      };
      const { grafana } = compose.services;
      const health = grafana.healthcheck.test.join(' ');
      const grafanaTls = stack.files.filter((file) => file.path.startsWith('grafana/tls/'));
      if (!withTls) {
        expect(grafana.environment?.GF_SERVER_PROTOCOL).toBeUndefined();
        expect(health).toContain('http://127.0.0.1:3000/api/health');
        expect(grafanaTls).toEqual([]);
        continue;
      }
      expect(grafana.environment).toMatchObject({
        GF_SERVER_PROTOCOL: 'https',
        GF_SERVER_CERT_FILE: '/etc/grafana/tls/server.pem',
        GF_SERVER_CERT_KEY: '/etc/grafana/tls/server.key',
      });
      expect(grafana.volumes).toContain('./grafana/tls:/etc/grafana/tls:ro');
      expect(health).toContain('https://127.0.0.1:3000/api/health');
      expect(grafanaTls).toEqual([
        { path: 'grafana/tls/server.pem', content: tls.serverCertificatePem, mode: 0o644 },
        { path: 'grafana/tls/server.key', content: tls.serverPrivateKeyPem, mode: 0o600 },
      ]);
    }
  });

  it('keeps each database on the data volume at the path its image really uses, and gives the processor only an empty disk-watch directory of the volume', () => {
    const expected = {
      postgres: '/srv/fieldstation/data/postgres:/var/lib/postgresql/data',
      timescaledb: '/srv/fieldstation/data/timescaledb:/var/lib/postgresql/data',
      influxdb: '/srv/fieldstation/data/influxdb:/var/lib/influxdb',
      mongodb: '/srv/fieldstation/data/mongodb:/data/db',
    };
    for (const database of DATABASE_CHOICES) {
      const spec = createStackSpec({
        address: 'iot.example.org',
        database,
        secrets: generateStackSecrets(),
      });
      const compose = parse(renderStack(spec).files[0].content) as {
        services: Record<string, ComposeService>;
      };
      expect(compose.services.database.volumes).toContain(expected[database]);
      expect(compose.services.rabbitmq.volumes).toContain(
        '/srv/fieldstation/data/rabbitmq:/var/lib/rabbitmq',
      );
      expect(compose.services.grafana.volumes).toContain(
        '/srv/fieldstation/data/grafana:/var/lib/grafana',
      );
      // The processor sees only an empty directory of the volume, enough to read its use.
      expect(compose.services.processor.volumes).toContain(
        '/srv/fieldstation/data/disk-watch:/data-volume:ro',
      );
      expect(compose.services.processor.environment?.DATA_VOLUME_PATH).toBe('/data-volume');
      expect(renderStack(spec).dataDirectories).toContainEqual({
        path: '/srv/fieldstation/data/disk-watch',
        uid: 0,
        gid: 0,
      });
    }
  });

  it('publishes plaintext broker ports without TLS, only TLS ports with it, management on loopback', () => {
    const ports = (spec: StackSpec, service: string) =>
      (parse(renderStack(spec).files[0].content) as { services: Record<string, ComposeService> })
        .services[service].ports;
    const secrets = generateStackSecrets();
    const plain = createStackSpec({ address: '198.51.100.1', database: 'postgres', secrets });
    const withTls = createStackSpec({
      address: '198.51.100.1',
      database: 'postgres',
      secrets,
      tls,
    });
    expect(ports(plain, 'rabbitmq')).toEqual(['5672:5672', '1883:1883', '127.0.0.1:15672:15672']);
    expect(ports(withTls, 'rabbitmq')).toEqual(['5671:5671', '8883:8883', '127.0.0.1:15672:15672']);
    // Grafana is public only over HTTPS; plain HTTP stays on the host's loopback.
    expect(ports(plain, 'grafana')).toEqual(['127.0.0.1:3000:3000']);
    expect(ports(withTls, 'grafana')).toEqual(['3000:3000']);
  });

  it('takes image overrides for private registries and offline installs', () => {
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'influxdb',
      secrets: generateStackSecrets(),
      images: {
        rabbitmq: 'registry.local:5000/rabbitmq:3.13.7-management',
        influxdb: 'registry.local:5000/influxdb:1.11.8',
      },
    });
    const compose = parse(renderStack(spec).files[0].content) as {
      services: Record<string, ComposeService & { build?: unknown }>;
    };
    expect(compose.services.rabbitmq.image).toBe('registry.local:5000/rabbitmq:3.13.7-management');
    expect(compose.services.database.image).toBe('registry.local:5000/influxdb:1.11.8');
    expect(compose.services.processor.build).toEqual({
      context: './processor',
      args: { NODE_IMAGE: 'node:20.20-bookworm-slim' },
    });
  });

  it('rejects specs that would inject into the rendered files', () => {
    const base = {
      address: '198.51.100.1',
      database: 'postgres' as const,
      secrets: generateStackSecrets(),
    };
    expect(() => createStackSpec({ ...base, address: 'evil host' })).toThrow('address');
    expect(() => createStackSpec({ ...base, dataPath: '/srv/x:/etc' })).toThrow('dataPath');
    expect(() => createStackSpec({ ...base, images: { grafana: 'grafana; rm -rf /' } })).toThrow(
      'image grafana',
    );
    expect(() =>
      createStackSpec({
        ...base,
        secrets: { ...base.secrets, databasePassword: 'a$b${X}cccccccccccccc' },
      }),
    ).toThrow('secret');
    expect(() =>
      createStackSpec({ ...base, processor: { packages: { lodash: '^4.0.0' } } }),
    ).toThrow('exact version');
    expect(() =>
      createStackSpec({
        ...base,
        deviceUsers: [{ name: 'fieldstation-admin', password: 'long-enough-pw' }],
      }),
    ).toThrow('taken');
  });
});
