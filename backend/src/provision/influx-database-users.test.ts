import { execFileSync } from 'node:child_process';
import {
  createStackSpec,
  generateSecret,
  generateStackSecrets,
  GRAFANA_DATABASE_ROLE,
  PROCESSOR_DATABASE_ROLE,
  type StackSpec,
} from '@fieldstation/platform-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port';
import { amqpPublisher, PlatformProbe, waitFor } from './testing/platform-probes';
import { testPlatformHost } from './testing/test-platform-host';
import { testDockerHost, testImages, testSshTarget } from './testing/test-ssh-host';

const { host, removeSnapshot } = testPlatformHost();
const target = testSshTarget();

/**
 * Runs inside the processor container (Node, on the platform's network): each request of
 * argv[1] against the database as INFLUX_USERNAME/INFLUX_PASSWORD (the container's environment or
 * what `docker exec -e` passed on), printing `{status, body}` per request.
 */
const REQUESTS_AS_USER = `
const requests = JSON.parse(process.argv[1]);
const auth = 'Basic ' + Buffer.from(process.env.INFLUX_USERNAME + ':' + process.env.INFLUX_PASSWORD).toString('base64');
(async () => {
  const results = [];
  for (const request of requests) {
    const response = request.write
      ? await fetch('http://database:8086/write?db=telemetry&precision=ms', { method: 'POST', headers: { authorization: auth }, body: request.write })
      : await fetch('http://database:8086/query', { method: 'POST', headers: { authorization: auth }, body: new URLSearchParams({ db: 'telemetry', q: request.query }) });
    results.push({ status: response.status, body: await response.text() });
  }
  console.log(JSON.stringify(results));
})();
`;

type InfluxRequest = { query: string } | { write: string };

/**
 * InfluxDB (the platform's database, here Debian's InfluxDB 1.6 in the stand-in image) as the
 * platform sets it up: the one-shot database-setup creates a WRITE-only user for the processor
 * and a READ-only one for Grafana. One platform for this suite.
 */
describe('the InfluxDB platform’s least-privileged users (real playbooks, Docker, InfluxDB)', () => {
  let spec: StackSpec;
  let probe: PlatformProbe;
  let device: { port: number; username: string; password: string };
  const platformId = `t${Date.now().toString(36)}-influx-users`;

  /** Each request as `user`; the password travels in docker's environment, never its argv. */
  const asUser = (
    user: 'processor' | 'grafana',
    requests: InfluxRequest[],
  ): { status: number; body: string }[] => {
    const [processor] = probe
      .docker(
        'ps',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${host.layout(platformId).composeProject}`,
        '--filter',
        'label=com.docker.compose.service=processor',
      )
      .split('\n');
    const credentials =
      user === 'processor'
        ? [] // the processor's own INFLUX_USERNAME/INFLUX_PASSWORD
        : ['-e', `INFLUX_USERNAME=${GRAFANA_DATABASE_ROLE}`, '-e', 'INFLUX_PASSWORD'];
    const out = execFileSync(
      'docker',
      [
        'exec',
        ...credentials,
        processor!,
        'node',
        '-e',
        REQUESTS_AS_USER,
        JSON.stringify(requests),
      ],
      {
        env: {
          ...process.env,
          DOCKER_HOST: testDockerHost(),
          INFLUX_PASSWORD: spec.secrets.grafanaDatabasePassword,
        },
        encoding: 'utf8',
      },
    );
    return JSON.parse(out) as { status: number; body: string }[];
  };
  /** 'allowed' for a 2xx without an error in the body, else 'denied (HTTP n)'. */
  const outcome = ({ status, body }: { status: number; body: string }) =>
    status < 300 && !body.includes('"error"') ? 'allowed' : `denied (HTTP ${status})`;

  beforeAll(async () => {
    const images = testImages();
    const amqp = await freeLoopbackPort();
    const login = { name: 'sensor-1', password: generateSecret() };
    spec = createStackSpec({
      address: '127.0.0.1',
      database: 'influxdb',
      secrets: generateStackSecrets(),
      deviceUsers: [login],
      ports: { amqp, mqtt: null, rabbitmqManagement: null, grafana: null },
      images: {
        rabbitmq: images.images.rabbitmq,
        influxdb: images.images.influxdb,
        grafana: images.images.grafana,
        node: images.images.node,
      },
    });
    probe = new PlatformProbe(testDockerHost(), host.layout(platformId).composeProject);
    device = { port: amqp, username: login.name, password: login.password };
    const result = await host.launch({
      platformId,
      target,
      spec,
      images: { source: 'offline', archives: [images.archive] },
    });
    expect(result.totals).toMatchObject({ failures: 0, unreachable: 0 });
  }, 900_000);

  afterAll(async () => {
    await host
      .teardown({ platformId, target, removeData: true })
      .catch((error: unknown) => console.error(`teardown of ${platformId} failed:`, error));
    removeSnapshot();
  }, 600_000);

  it('the processor stores readings as its WRITE-only user, which cannot read, drop or administer', async () => {
    const publisher = await amqpPublisher(device);
    await publisher.publish('telemetry.room.sensor-1', {
      measurement: 'room',
      device: 'sensor-1',
      data: { raw: 2150 },
    });
    await publisher.close();
    await waitFor(
      'the reading in InfluxDB',
      () => probe.readings('influxdb'),
      (rows) => rows.length === 1,
    );

    const attempts: Record<string, InfluxRequest> = {
      'write a point': { write: 'room,device=sensor-9 raw=1 1714564800000' },
      'read readings': { query: 'SELECT * FROM room' },
      'list measurements': { query: 'SHOW MEASUREMENTS' },
      'drop the measurement': { query: 'DROP MEASUREMENT room' },
      'drop the database': { query: 'DROP DATABASE telemetry' },
      'create a database': { query: 'CREATE DATABASE other' },
      'create a user': { query: "CREATE USER intruder WITH PASSWORD 'intruder-password'" },
      'become admin': { query: `GRANT ALL PRIVILEGES TO ${PROCESSOR_DATABASE_ROLE}` },
      'change Grafana’s password': {
        query: `SET PASSWORD FOR ${GRAFANA_DATABASE_ROLE} = 'intruder-password'`,
      },
      'list users': { query: 'SHOW USERS' },
      'change the retention policy': {
        query: 'ALTER RETENTION POLICY autogen ON telemetry DURATION 1h',
      },
    };
    const results = asUser('processor', Object.values(attempts));
    expect(
      Object.fromEntries(Object.keys(attempts).map((what, i) => [what, outcome(results[i]!)])),
    ).toEqual({
      'write a point': 'allowed',
      'read readings': 'denied (HTTP 403)',
      'list measurements': 'denied (HTTP 403)',
      'drop the measurement': 'denied (HTTP 403)',
      'drop the database': 'denied (HTTP 403)',
      'create a database': 'denied (HTTP 403)',
      'create a user': 'denied (HTTP 403)',
      'become admin': 'denied (HTTP 403)',
      'change Grafana’s password': 'denied (HTTP 403)',
      'list users': 'denied (HTTP 403)',
      'change the retention policy': 'denied (HTTP 403)',
    });
    expect(
      probe
        .readings('influxdb')
        .map((row) => row.device)
        .sort(),
    ).toEqual(['sensor-1', 'sensor-9']);
  }, 300_000);

  it('Grafana’s user reads readings and cannot write, delete, drop or administer', () => {
    const attempts: Record<string, InfluxRequest> = {
      'read readings': { query: 'SELECT * FROM room' },
      'write a point': { write: 'room,device=intruder raw=1 1714564800000' },
      'delete readings': { query: 'DELETE FROM room' },
      'drop series': { query: 'DROP SERIES FROM room' },
      'drop the retention policy': { query: 'DROP RETENTION POLICY autogen ON telemetry' },
      'drop the measurement': { query: 'DROP MEASUREMENT room' },
      'drop the database': { query: 'DROP DATABASE telemetry' },
      'copy with SELECT INTO': { query: 'SELECT * INTO copied FROM room' },
      'create a user': { query: "CREATE USER intruder WITH PASSWORD 'intruder-password'" },
    };
    const results = asUser('grafana', Object.values(attempts));
    expect(results[0]!.body).toContain('sensor-1');
    expect(
      Object.fromEntries(Object.keys(attempts).map((what, i) => [what, outcome(results[i]!)])),
    ).toEqual({
      'read readings': 'allowed',
      'write a point': 'denied (HTTP 403)',
      'delete readings': 'denied (HTTP 403)',
      'drop series': 'denied (HTTP 403)',
      'drop the retention policy': 'denied (HTTP 403)',
      'drop the measurement': 'denied (HTTP 403)',
      'drop the database': 'denied (HTTP 403)',
      'copy with SELECT INTO': 'denied (HTTP 403)',
      'create a user': 'denied (HTTP 403)',
    });
    expect(
      probe
        .readings('influxdb')
        .map((row) => row.device)
        .sort(),
    ).toEqual(['sensor-1', 'sensor-9']);
  });

  it('sets the users up again on every start: a changed password and an admin grant are put right', async () => {
    // As if someone had made Grafana's user an admin and the platform's secret had changed.
    const container = probe
      .docker(
        'ps',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${host.layout(platformId).composeProject}`,
        '--filter',
        'label=com.docker.compose.service=database',
      )
      .trim();
    probe.docker(
      'exec',
      container,
      'sh',
      '-c',
      `INFLUX_USERNAME=admin INFLUX_PASSWORD="$INFLUXDB_ADMIN_PASSWORD" influx -host 127.0.0.1 -execute "GRANT ALL PRIVILEGES TO ${GRAFANA_DATABASE_ROLE}"`,
    );
    const rotated = {
      ...spec,
      secrets: { ...spec.secrets, grafanaDatabasePassword: generateSecret() },
    };
    const again = await host.launch({
      platformId,
      target,
      spec: rotated,
      images: { source: 'offline', archives: [testImages().archive] },
    });
    expect(again.totals).toMatchObject({ failures: 0 });
    spec = rotated;
    const [write] = asUser('grafana', [{ write: 'room,device=intruder raw=1 1714564800000' }]);
    expect(outcome(write!)).toBe('denied (HTTP 403)');
    const [read] = asUser('grafana', [{ query: 'SELECT * FROM room' }]);
    expect(outcome(read!)).toBe('allowed');
  }, 600_000);

  it('sets the readings retention in the running database as a small playbook, restarting nothing (readings-retention.yml)', async () => {
    const containers = () =>
      probe
        .docker(
          'ps',
          '--quiet',
          '--filter',
          `label=com.docker.compose.project=${host.layout(platformId).composeProject}`,
        )
        .trim()
        .split('\n')
        .sort();
    const before = containers();
    const log: string[] = [];
    const result = await host.applyReadingsRetention({
      platformId,
      target,
      database: 'influxdb',
      days: 7,
      onEvent: (event) => log.push(JSON.stringify(event)),
    });
    expect(result.totals).toMatchObject({ failures: 0, unreachable: 0 });
    expect(log.join('\n')).toContain('Apply the readings retention');
    const [policies] = asUser('grafana', [{ query: 'SHOW RETENTION POLICIES ON telemetry' }]);
    expect(policies!.body).toContain('"autogen","168h0m0s","24h0m0s"');

    // From now on a reading older than 7 days is not kept; a newer one is.
    const day = 24 * 60 * 60_000;
    const [old, recent] = asUser('processor', [
      { write: `room,device=too-old raw=1 ${Date.now() - 30 * day}` },
      { write: `room,device=recent raw=1 ${Date.now() - day}` },
    ]);
    expect(old!.body).toMatch(/beyond retention policy/);
    expect(outcome(recent!)).toBe('allowed');
    expect(containers()).toEqual(before);
  }, 300_000);
});
