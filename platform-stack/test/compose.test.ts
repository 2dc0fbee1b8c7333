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
      const withSetup = database === 'postgres' || database === 'timescaledb';
      expect(Object.keys(resolved.services).sort()).toEqual([
        'database',
        ...(withSetup ? ['database-setup'] : []),
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

  it.each(['postgres', 'timescaledb'] as const)(
    'gives the %s superuser password only to the database and its setup; the processor and Grafana use their own roles',
    (database) => {
      const spec = createStackSpec({
        address: 'iot.example.org',
        database,
        secrets: generateStackSecrets(),
      });
      const stack = renderStack(spec);
      const compose = parse(stack.files[0].content) as {
        services: Record<string, ComposeService & { depends_on?: unknown; command?: string[] }>;
      };
      const superuserPassword = '${FIELDSTATION_DATABASE_PASSWORD}';
      const holders = Object.entries(compose.services)
        .filter(([, service]) => JSON.stringify(service).includes(superuserPassword))
        .map(([name]) => name);
      expect(holders.sort()).toEqual(['database', 'database-setup']);
      expect(compose.services.processor.environment?.POSTGRES_URL).toBe(
        'postgres://fieldstation_processor:${FIELDSTATION_PROCESSOR_DATABASE_PASSWORD}@database:5432/telemetry',
      );
      expect(compose.services.grafana.environment).toMatchObject({
        FIELDSTATION_GRAFANA_DATABASE_PASSWORD: '${FIELDSTATION_GRAFANA_DATABASE_PASSWORD}',
      });
      expect(compose.services['database-setup'].command).toEqual([
        'psql',
        '--no-psqlrc',
        '--file=/fieldstation/setup.sql',
      ]);
      for (const name of ['processor', 'grafana']) {
        expect(compose.services[name].depends_on).toMatchObject({
          'database-setup': { condition: 'service_completed_successfully' },
        });
      }
      const setup = stack.files.find((file) => file.path === 'database/setup.sql');
      expect(setup?.content).toContain('GRANT INSERT ON readings TO fieldstation_processor;');
      for (const secret of Object.values(spec.secrets))
        expect(setup?.content).not.toContain(secret);
    },
  );

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

  it('keeps each database on the data volume at the path its image really uses', () => {
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
