import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerProcess } from './server-process';
import { freePort, serviceUrl, tempDir, waitFor } from './test-env';

interface Health {
  status: string;
  database: string;
  redis: string;
  workers: number;
}

async function health(baseUrl: string): Promise<Health | undefined> {
  // A time limit per request, so a stuck server ends in waitFor's clear message, not a hang.
  const response = await fetch(`${baseUrl}/api/v1/health`, {
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  return response?.ok ? ((await response.json()) as Health) : undefined;
}

describe('the server process, started as `npm start` starts it', () => {
  const started: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.stop('SIGKILL')));
  });
  const start = (env: NodeJS.ProcessEnv, args: string[] = []) => {
    const server = ServerProcess.start(env, args);
    started.push(server);
    return server;
  };

  it('starts its own Redis, serves the UI and the API on one port, and Ctrl-C stops both', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const server = start({ PORT: String(port), DATA_DIR: dataDir });
    const baseUrl = `http://127.0.0.1:${port}`;

    const result = await waitFor(() => health(baseUrl), { what: 'health', timeoutMs: 30_000 });
    expect(result).toMatchObject({ status: 'ok', database: 'up', redis: 'up' });
    // The line is printed once listening; its bytes may reach this process after the answer.
    await waitFor(
      () => (server.output.includes(`running at http://127.0.0.1:${port}/`) ? true : undefined),
      { what: 'the "running at" line', timeoutMs: 10_000 },
    );

    const page = await fetch(`${baseUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app"></div>');
    const deepLink = await fetch(`${baseUrl}/platforms/some-id`);
    expect(await deepLink.text()).toContain('<div id="app"></div>');

    const redisPid = Number(readFileSync(join(dataDir, 'redis/redis.pid'), 'utf8'));
    expect(existsSync(`/proc/${redisPid}`)).toBe(true);
    expect((await server.stop('SIGINT')).code).toBe(0);
    await waitFor(() => (existsSync(`/proc/${redisPid}`) ? undefined : true), {
      what: 'redis-server to exit',
    });
    expect(existsSync(join(dataDir, 'redis/redis.pid'))).toBe(false);
  });

  it('stops at start-up with a one-line message naming a bad variable', async () => {
    const server = start({ PORT: 'abc', DATA_DIR: tempDir() });
    expect((await server.exited).code).toBe(1);
    expect(server.output).toBe(
      'fieldstation: Invalid configuration: PORT must be a number (got "abc")\n',
    );
  });

  it('says how to get Redis when redis-server is missing and REDIS_URL is unset', async () => {
    const server = ServerProcess.start({ PATH: '/nonexistent', DATA_DIR: tempDir() });
    started.push(server);
    expect((await server.exited).code).toBe(1);
    expect(server.output).toMatch(
      /redis-server is not installed.*apt-get install redis-server.*REDIS_URL/,
    );
  });

  it('runs API and worker as separate processes sharing one Redis', async () => {
    // Its own Redis database: apps of test files running in parallel add workers to db 0.
    const redisUrl = `${serviceUrl('FS_TEST_REDIS_URL')}/9`;
    const dataDir = tempDir();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const prefix = 'fs-role-test';
    const env = {
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      PORT: String(port),
      QUEUE_PREFIX: prefix,
    };
    const queue = new Queue('deployments', { connection: { url: redisUrl }, prefix });

    start(env, ['--role', 'api']);
    const apiOnly = await waitFor(() => health(baseUrl), { what: 'api health', timeoutMs: 30_000 });
    expect(apiOnly.workers).toBe(0);

    const worker = start(env, ['--role', 'worker']);
    // The worker registers in Redis while Nest is still starting, before it logs that it runs.
    await waitFor(() => (worker.output.includes('worker is running') ? true : undefined), {
      what: 'the worker to say it is running',
      timeoutMs: 30_000,
    });
    await waitFor(async () => ((await health(baseUrl))?.workers === 1 ? true : undefined), {
      what: 'the worker to register',
      timeoutMs: 30_000,
    });

    // The worker really consumes: a job nobody handles fails with a clear reason.
    const events = new QueueEvents('deployments', { connection: { url: redisUrl }, prefix });
    await events.waitUntilReady();
    const job = await queue.add('no-such-job', { id: 'x' });
    // waitUntilFinished also reads the job's state, so a failure before the events stream is
    // being read is not missed (a bare 'failed' listener hung a clean-clone run for 150 s).
    const outcome = await job.waitUntilFinished(events, 60_000).then(
      () => 'completed',
      (error: Error) => error.message,
    );
    expect(outcome).toBe('No handler for job "no-such-job"');

    expect((await worker.stop('SIGTERM')).code).toBe(0);
    await events.close();
    await queue.close();
    // Two process starts of up to 30 s each on a busy machine: more than the default 60 s.
  }, 150_000);
});
