import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/common/free-port';
import { PlatformProbe } from '../../src/provision/testing/platform-probes';
import { testDockerHost, testImages } from '../../src/provision/testing/test-ssh-host';
import { ApiClient } from '../api-client';
import { ServerProcess } from '../server-process';
import { readSse } from '../sse';
import { serviceUrl, tempDir, waitFor } from '../test-env';
import { testS3 } from '../test-s3';

type Platform = { id: string; status: string; failedStep: string | null };
type Deployment = { id: string; status: string; step: string | null; error: string | null };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with npm test`);
  return value;
}

/** Follows a deployment's SSE log until it ends; returns the steps it went through and how it ended. */
async function follow(api: ApiClient, deploymentId: string) {
  const steps: string[] = [];
  let last: Deployment | undefined;
  const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
    headers: { authorization: `Bearer ${api.accessToken}` },
  });
  expect(response.status).toBe(200);
  await readSse(response, (event) => {
    if (event.event === 'status') {
      last = event.data as Deployment;
      if (last.step && steps.at(-1) !== last.step) steps.push(last.step);
    }
    return event.event === 'end';
  });
  return { steps, status: last?.status, error: last?.error };
}

/** The worker whose process has children (Ansible, SSH) is the one running the launch. */
function busy(worker: ServerProcess): boolean {
  try {
    return (
      execFileSync('pgrep', ['-P', String(worker.child.pid)], { encoding: 'utf8' }).trim() !== ''
    );
  } catch {
    return false;
  }
}

/**
 * Fieldstation as on three machines (issue 18, DESIGN §11): one API and two workers, each with
 * a data dir of its own, sharing only PostgreSQL, Redis, the server secret and an S3 bucket.
 */
describe('Fieldstation on several machines (PostgreSQL, one API, two workers, S3 files)', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const database = `fs_machines_${randomBytes(4).toString('hex')}`;
  const processes: ServerProcess[] = [];
  const dataDirs = {
    api: tempDir('fs-machine-api-'),
    a: tempDir('fs-machine-a-'),
    b: tempDir('fs-machine-b-'),
  };
  let workers: ServerProcess[];
  let api: ApiClient;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const databaseUrl = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    databaseUrl.pathname = `/${database}`;
    const { archive, images } = testImages();
    const s3 = testS3();
    const port = await freeLoopbackPort();
    const shared: NodeJS.ProcessEnv = {
      HOME: process.env.HOME,
      PORT: String(port),
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: serviceUrl('FS_TEST_REDIS_URL'),
      QUEUE_PREFIX: `fs-machines-${randomUUID()}`,
      FIELDSTATION_SECRET: randomBytes(32).toString('hex'),
      FILE_STORE: 's3',
      FILE_STORE_S3_ENDPOINT: s3.endpoint,
      FILE_STORE_S3_REGION: s3.region,
      FILE_STORE_S3_BUCKET: s3.bucket,
      FILE_STORE_S3_PREFIX: `machines-${randomBytes(4).toString('hex')}/`,
      FILE_STORE_S3_ACCESS_KEY_ID: s3.accessKeyId,
      FILE_STORE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      FILE_STORE_S3_PATH_STYLE: 'true',
      IMAGE_SUPPLY: 'offline',
      IMAGE_ARCHIVES: archive,
      STACK_IMAGES: JSON.stringify(images),
      HOST_DOCKER_HOST: testDockerHost(),
      HOST_MANAGE_DOCKER_SERVICE: 'false',
      SSH_WAIT_SECONDS: '3',
      ALLOW_LOOPBACK_TARGETS: 'true',
    };
    // The API migrates the database first; the workers start once it answers.
    processes.push(ServerProcess.start({ ...shared, DATA_DIR: dataDirs.api }, ['--role', 'api']));
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${baseUrl}/api/v1/health`)).ok ? true : undefined), {
      timeoutMs: 90_000,
      what: 'the API to answer',
    });
    workers = [dataDirs.a, dataDirs.b].map((dir) =>
      ServerProcess.start({ ...shared, DATA_DIR: dir }, ['--role', 'worker'], { ownGroup: true }),
    );
    processes.push(...workers);
    api = new ApiClient(baseUrl);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((server) => server.stop('SIGTERM')));
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }, 120_000);

  it(
    'a launch whose worker is killed mid-configuring is finished by the other; a restore uploaded to the API is applied by a worker; destroy works',
    async () => {
      await api.signUp('machines');
      const credential = await api.post<{ id: string }>('/credentials', {
        type: 'ssh-host',
        name: 'test-host',
        host: required('FS_TEST_SSH_HOST'),
        port: Number(required('FS_TEST_SSH_PORT')),
        username: required('FS_TEST_SSH_USER'),
        auth: 'uploaded-key',
        privateKey: readFileSync(required('FS_TEST_SSH_KEY_FILE'), 'utf8'),
      });
      expect(credential.status).toBe(201);
      const launched = await api.post<{ platform: Platform; deploymentId: string }>('/platforms', {
        name: 'spread',
        target: 'ssh-host',
        credentialId: credential.body.id,
        database: 'postgres',
        tls: false,
        ports: {
          amqp: await freeLoopbackPort(),
          mqtt: await freeLoopbackPort(),
          rabbitmqManagement: null,
          grafana: null,
        },
      });
      expect(launched.status).toBe(202);
      const platformId = launched.body.platform.id;

      // Kill the worker that configures the host, as a machine that loses power would.
      const victim = await waitFor(
        async () => {
          const { body } = await api.get<Platform>(`/platforms/${platformId}`);
          return body.status === 'configuring' ? workers.find(busy) : undefined;
        },
        { timeoutMs: 300_000, intervalMs: 250, what: 'a worker configuring the host' },
      );
      await victim.kill();
      const survivor = workers.find((worker) => worker !== victim)!;

      // The other worker, with a data dir of its own, takes the job over once its lock expires.
      const launch = await follow(api, launched.body.deploymentId);
      expect(launch.status, launch.error ?? '').toBe('succeeded');
      expect(launch.steps).toContain('verifying');
      expect((await api.get<Platform>(`/platforms/${platformId}`)).body).toMatchObject({
        status: 'running',
        failedStep: null,
      });

      // Dump, download it through the API, and upload it back as a restore: the upload lands in
      // the bucket (not on the API's disk) and the surviving worker applies it.
      const dump = await api.post<{ deploymentId: string }>(`/platforms/${platformId}/dump`);
      expect((await follow(api, dump.body.deploymentId)).status).toBe('succeeded');
      const download = await fetch(`${api.baseUrl}/api/v1/platforms/${platformId}/dump`, {
        headers: { authorization: `Bearer ${api.accessToken}` },
      });
      expect(download.status).toBe(200);
      const dumped = Buffer.from(await download.arrayBuffer());
      expect(dumped.subarray(0, 5).toString()).toBe('PGDMP');
      const restore = await fetch(`${api.baseUrl}/api/v1/platforms/${platformId}/restore`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${api.accessToken}`,
          'content-type': 'application/octet-stream',
        },
        body: dumped,
      });
      expect(restore.status).toBe(202);
      const { deploymentId } = (await restore.json()) as { deploymentId: string };
      const restored = await follow(api, deploymentId);
      expect(restored.status, restored.error ?? '').toBe('succeeded');
      expect(existsSync(join(dataDirs.api, 'uploads'))).toBe(false);
      expect(survivor.child.exitCode).toBeNull();

      const destroyed = await api.delete<{ deploymentId: string }>(`/platforms/${platformId}`, {
        removeData: true,
      });
      expect(destroyed.status).toBe(202);
      expect((await follow(api, destroyed.body.deploymentId)).status).toBe('succeeded');
      expect((await api.get<Platform>(`/platforms/${platformId}`)).body.status).toBe('destroyed');
      expect(
        new PlatformProbe(testDockerHost(), `fieldstation-${platformId}`).containers(),
      ).toEqual([]);
    },
    30 * 60_000,
  );
});
