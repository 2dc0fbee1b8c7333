import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PlatformProbe,
  publishMqtt,
  waitFor as waitUntil,
} from '../../src/provision/testing/platform-probes';
import { testDockerHost, testImages } from '../../src/provision/testing/test-ssh-host';
import { freeLoopbackPort } from '../../src/common/free-port';
import { ApiClient, type ErrorBody } from '../api-client';
import { MAIN_JS } from '../server-process';
import { readSse, type SseEvent } from '../sse';
import { serviceUrl, tempDir, waitFor } from '../test-env';

type Platform = {
  id: string;
  status: string;
  failedStep: string | null;
  hostKeyFingerprint: string | null;
};
type PlatformHealth = {
  status: string;
  reason: string | null;
  queueDepth?: number | null;
  lastReadingAt?: string | null;
};
type Deployment = { id: string; status: string; step: string | null; error: string | null };
type Accepted = { platform: Platform; deploymentId: string };
type Connection = {
  mqttUrl: string;
  devices: { username: string }[];
};

/** A Fieldstation process as `npm start` runs it; its own process group, so a kill takes Ansible too. */
class Server {
  output = '';
  readonly exited: Promise<unknown>;
  private readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv, role: 'api' | 'worker') {
    this.child = spawn(process.execPath, [MAIN_JS, '--role', role], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }

  /** What a crash or `kill -9` of the machine's process does: no shutdown hooks run. */
  async kill(): Promise<void> {
    process.kill(-this.child.pid!, 'SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Follows a deployment's SSE log until it ends; returns every event. */
async function follow(api: ApiClient, deploymentId: string, onEvent?: (event: SseEvent) => void) {
  const events: SseEvent[] = [];
  const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
    headers: { authorization: `Bearer ${api.accessToken}` },
  });
  expect(response.status).toBe(200);
  await readSse(response, (event) => {
    events.push(event);
    onEvent?.(event);
    return event.event === 'end';
  });
  return events;
}

/** Reads the deployment's SSE log until a line matches. */
async function untilLogLine(
  api: ApiClient,
  deploymentId: string,
  matches: (line: { message: string; data?: { source?: string } | null }) => boolean,
): Promise<void> {
  const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
    headers: { authorization: `Bearer ${api.accessToken}` },
  });
  let found = false;
  await readSse(response, (event) => {
    found = event.event === 'log' && matches(event.data as { message: string });
    return found || event.event === 'end';
  });
  expect(found).toBe(true);
}

const finalStatus = (events: SseEvent[]) =>
  (events.filter((event) => event.event === 'status').at(-1)?.data as Deployment).status;

const scriptV1 = `export default function process(reading) {
  return { ...reading, data: { ...reading.data, celsius: reading.data.raw / 100, script: 'v1' } };
}
`;
const scriptV2 = scriptV1.replace("'v1'", "'v2'");

describe('The user journey through the API (real Redis, SQLite, SSH host, Ansible, Docker)', () => {
  const servers: Server[] = [];
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  let worker: Server;

  beforeAll(async () => {
    const { archive, images } = testImages();
    const port = await freeLoopbackPort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      DATA_DIR: tempDir('fieldstation-journey-'),
      REDIS_URL: serviceUrl('FS_TEST_REDIS_URL'),
      QUEUE_PREFIX: `fs-journey-${randomUUID()}`,
      IMAGE_SUPPLY: 'offline',
      IMAGE_ARCHIVES: archive,
      STACK_IMAGES: JSON.stringify(images),
      HOST_DOCKER_HOST: testDockerHost(),
      HOST_MANAGE_DOCKER_SERVICE: 'false',
      SSH_WAIT_SECONDS: '3',
      ALLOW_LOOPBACK_TARGETS: 'true',
    };
    servers.push(new Server(env, 'api'));
    worker = new Server(env, 'worker');
    servers.push(worker);
    await waitFor(async () => ((await fetch(`${baseUrl}/api/v1/health`)).ok ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the API to answer',
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  }, 120_000);

  it(
    'register, add a host, launch, survive a worker crash, ingest, update, dump, destroy',
    async () => {
      const api = new ApiClient(baseUrl);
      await api.signUp('journey');
      const rival = new ApiClient(baseUrl);
      await rival.signUp('rival');

      // An SSH host credential with a wrong port first: the launch must fail at waiting_for_host.
      const credential = await api.post<{ id: string }>('/credentials', {
        type: 'ssh-host',
        name: 'test-host',
        host: process.env.FS_TEST_SSH_HOST,
        port: await freeLoopbackPort(),
        username: process.env.FS_TEST_SSH_USER,
        auth: 'uploaded-key',
        privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
      });
      expect(credential.status).toBe(201);
      const [amqp, mqtt] = [await freeLoopbackPort(), await freeLoopbackPort()];
      const launched = await api.post<Accepted>('/platforms', {
        name: 'greenhouse',
        target: 'ssh-host',
        credentialId: credential.body.id,
        database: 'postgres',
        deviceUsers: ['sensor-1'],
        // Plain MQTT/AMQP: the test's devices connect without a CA (TLS is the default).
        tls: false,
        ports: { amqp, mqtt, rabbitmqManagement: null, grafana: null },
        processor: { script: scriptV1 },
      });
      expect(launched.status).toBe(202);
      const platformId = launched.body.platform.id;

      // Meanwhile another user launches too; neither sees the other's platform or log.
      const rivalCredential = await rival.post<{ id: string }>('/credentials', {
        type: 'ssh-host',
        name: 'elsewhere',
        host: '127.0.0.1',
        port: await freeLoopbackPort(),
        username: 'pi',
        auth: 'generated-key',
      });
      const rivalLaunch = await rival.post<Accepted>('/platforms', {
        name: 'greenhouse',
        target: 'ssh-host',
        credentialId: rivalCredential.body.id,
      });
      expect(rivalLaunch.status).toBe(202);
      for (const [client, path] of [
        [rival, `/platforms/${platformId}`],
        [rival, `/deployments/${launched.body.deploymentId}`],
        [rival, `/deployments/${launched.body.deploymentId}/events`],
        [rival, `/deployments?targetId=${platformId}`],
        [api, `/platforms/${rivalLaunch.body.platform.id}`],
        [api, `/deployments/${rivalLaunch.body.deploymentId}/events`],
      ] as const) {
        const answer = await client.get<ErrorBody | unknown[]>(path);
        if (Array.isArray(answer.body)) expect(answer.body).toEqual([]);
        else expect(answer.status).toBe(404);
      }
      expect((await rival.get<Platform[]>('/platforms')).body.map((p) => p.id)).toEqual([
        rivalLaunch.body.platform.id,
      ]);

      const firstRun = await follow(api, launched.body.deploymentId);
      expect(finalStatus(firstRun)).toBe('failed');
      const failed = (await api.get<Deployment>(`/deployments/${launched.body.deploymentId}`)).body;
      expect(failed.step).toBe('waiting_for_host');
      expect(failed.error).toMatch(/unreachable after \d+ s: connect ECONNREFUSED/);

      // Fix the port and retry: it resumes at the failed step.
      await api.patch(`/credentials/${credential.body.id}`, {
        port: Number(process.env.FS_TEST_SSH_PORT),
      });
      const retried = await api.post<{ deploymentId: string }>(`/platforms/${platformId}/retry`);
      expect(retried.status).toBe(202);

      // Kill the worker (and its Ansible) while it configures the host, then start a new one.
      await waitFor(
        async () =>
          (await api.get<Platform>(`/platforms/${platformId}`)).body.status === 'configuring'
            ? true
            : undefined,
        { timeoutMs: 120_000, intervalMs: 200, what: 'the launch to reach configuring' },
      );
      await untilLogLine(api, retried.body.deploymentId, (line) => line.data?.source === 'ansible');
      await worker.kill();
      const restarted = new Server(env, 'worker');
      servers.push(restarted);

      const steps: string[] = [];
      const resumed = await follow(api, retried.body.deploymentId, (event) => {
        const step = (event.data as { step?: string } | undefined)?.step;
        if (event.event === 'status' && step && steps.at(-1) !== step) steps.push(step);
      });
      expect(finalStatus(resumed)).toBe('succeeded');
      expect(steps).toContain('verifying');
      const running = (await api.get<Platform>(`/platforms/${platformId}`)).body;
      expect(running).toMatchObject({ status: 'running', failedStep: null });
      expect(running.hostKeyFingerprint).toMatch(/^SHA256:/);
      // One deployment per attempt, none left active.
      const deployments = (await api.get<Deployment[]>(`/deployments?targetId=${platformId}`)).body;
      expect(deployments.map((d) => d.status).sort()).toEqual(['failed', 'succeeded']);

      // A device publishes with the generated credentials; the script's output lands in PostgreSQL.
      const connection = (await api.get<Connection>(`/platforms/${platformId}/connection`)).body;
      expect(connection.mqttUrl).toBe(`mqtt://127.0.0.1:${mqtt}`);
      // The connection answer names the devices; a launch device's password is revealed once.
      const { username } = connection.devices[0]!;
      const revealed = await api.post<{ password: string }>(
        `/platforms/${platformId}/devices/${username}/reveal-password`,
      );
      const device = { port: mqtt, username, password: revealed.body.password };
      const probe = new PlatformProbe(testDockerHost(), `fieldstation-${platformId}`);
      await publishMqtt(device, 'telemetry/room/sensor-1', {
        measurement: 'room',
        device: 'sensor-1',
        data: { raw: 2150, seq: 1 },
      });
      const stored = await waitUntil(
        'the first reading',
        () => probe.readings('postgres'),
        (rows) => rows.length === 1,
      );
      expect(stored[0]).toMatchObject({
        device: 'sensor-1',
        data: { celsius: 21.5, script: 'v1' },
      });

      // Update the script; later readings are processed by the new one.
      const update = await api.post<{ deploymentId: string }>(
        `/platforms/${platformId}/processor`,
        {
          script: scriptV2,
        },
      );
      expect(update.status).toBe(202);
      expect(finalStatus(await follow(api, update.body.deploymentId))).toBe('succeeded');
      await publishMqtt(device, 'telemetry/room/sensor-1', {
        measurement: 'room',
        device: 'sensor-1',
        data: { raw: 2200, seq: 2 },
      });
      const both = await waitUntil(
        'the second reading',
        () => probe.readings('postgres'),
        (rows) => rows.length === 2,
      );
      expect(both[1]).toMatchObject({ data: { celsius: 22, script: 'v2' } });

      // A script that parses but throws while loading is refused on the host in seconds: the
      // platform keeps running v2, and so does its record (the editor shows what runs).
      const broken = await api.post<{ deploymentId: string }>(
        `/platforms/${platformId}/processor`,
        {
          script: `throw new Error('broken on purpose');\n${scriptV2}`,
        },
      );
      expect(broken.status).toBe(202);
      expect(finalStatus(await follow(api, broken.body.deploymentId))).toBe('failed');
      const refused = (await api.get<Deployment>(`/deployments/${broken.body.deploymentId}`)).body;
      expect(refused.error).toMatch(
        /^The script does not load: broken on purpose\. The previous script keeps running/,
      );
      expect((await api.get<Platform>(`/platforms/${platformId}`)).body.status).toBe('running');
      const kept = (await api.get<{ script: string }>(`/platforms/${platformId}/processor`)).body;
      expect(kept.script).toBe(scriptV2);

      // The periodic health check looks at the host too while the user has a session.
      const health = await waitFor(
        async () => {
          const { body } = await api.get<{ health: PlatformHealth | null }>(
            `/platforms/${platformId}`,
          );
          return body.health?.lastReadingAt ? body.health : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 1000, what: 'a health check with the last reading' },
      );
      expect(health).toMatchObject({ status: 'healthy', reason: null, queueDepth: 0 });
      expect(Date.parse(health.lastReadingAt!)).toBeGreaterThan(Date.now() - 5 * 60_000);

      // Dump, then download it.
      const dump = await api.post<{ deploymentId: string }>(`/platforms/${platformId}/dump`);
      expect(finalStatus(await follow(api, dump.body.deploymentId))).toBe('succeeded');
      const download = await fetch(`${baseUrl}/api/v1/platforms/${platformId}/dump`, {
        headers: { authorization: `Bearer ${api.accessToken}` },
      });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-disposition')).toMatch(/greenhouse-postgres-.*\.pgdump/);
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');

      // Destroy: the platform is gone from the list and no container of it remains.
      const destroyed = await api.delete<{ deploymentId: string }>(`/platforms/${platformId}`, {
        removeData: true,
      });
      expect(destroyed.status).toBe(202);
      expect(finalStatus(await follow(api, destroyed.body.deploymentId))).toBe('succeeded');
      expect((await api.get<Platform>(`/platforms/${platformId}`)).body.status).toBe('destroyed');
      expect(probe.containers()).toEqual([]);
    },
    30 * 60_000,
  );
});
