import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, finishedDeployment, sshHostCredential } from './api-client';
import { ServerProcess } from './server-process';
import { freePort, tempDir, waitFor } from './test-env';

/**
 * Fieldstation's own dependencies failing under a running install (issue 16 item 8): its private
 * redis-server killed, an external Redis or PostgreSQL restarted. Real processes throughout: the
 * built server as `npm start` runs it, real redis-server and a private PostgreSQL cluster (never
 * the shared test services, which other tests use).
 */

interface Health {
  status: string;
  database: string;
  redis: string;
  workers: number;
}

async function health(baseUrl: string): Promise<Health | undefined> {
  const response = await fetch(`${baseUrl}/api/v1/health`, {
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  return response ? ((await response.json()) as Health) : undefined;
}

function healthy(baseUrl: string, what: string): Promise<Health> {
  return waitFor(
    async () => {
      const answer = await health(baseUrl);
      return answer?.status === 'ok' && answer.workers === 1 ? answer : undefined;
    },
    { what, timeoutMs: 60_000 },
  );
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** A job nobody handles: the worker fails it at once, which proves it was taken from Redis. */
async function queueProbeJob(redisUrl: string, delayMs: number) {
  const connection = { url: redisUrl };
  const queue = new Queue('deployments', { connection, prefix: 'fieldstation' });
  const job = await queue.add('no-such-job', {}, { delay: delayMs });
  return {
    async outcome(): Promise<string> {
      const events = new QueueEvents('deployments', { connection, prefix: 'fieldstation' });
      events.on('error', () => undefined);
      await events.waitUntilReady();
      try {
        return await job.waitUntilFinished(events, 60_000).then(
          () => 'completed',
          (error: Error) => error.message,
        );
      } finally {
        await events.close();
        await queue.close();
      }
    },
  };
}

/** A launch whose host never answers: it stays in `waiting_for_host` for SSH_WAIT_SECONDS. */
async function launchWaitingForHost(baseUrl: string): Promise<{ api: ApiClient; id: string }> {
  const api = new ApiClient(baseUrl);
  await api.signUp('faults');
  const credentialId = await sshHostCredential(api, await freePort());
  const launch = await api.post<{ deploymentId: string }>('/platforms', {
    name: 'through-the-outage',
    target: 'ssh-host',
    credentialId,
    tls: false,
  });
  expect(launch.status).toBe(202);
  const id = launch.body.deploymentId;
  await waitFor(
    async () => {
      const { body } = await api.get<{ step: string | null }>(`/deployments/${id}`);
      return body.step === 'waiting_for_host' ? true : undefined;
    },
    { what: 'the launch to wait for its host', timeoutMs: 30_000 },
  );
  return { api, id };
}

const SERVER_ENV = { ALLOW_LOOPBACK_TARGETS: 'true', SSH_WAIT_SECONDS: '12' };

// Each test starts the built server (~10 s on a loaded machine) and waits out an outage.
describe(
  'Fieldstation survives faults of its own dependencies (real processes)',
  { timeout: 180_000 },
  () => {
    const cleanups: (() => Promise<unknown> | void)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const startServer = (env: NodeJS.ProcessEnv) => {
      const server = ServerProcess.start({ ...SERVER_ENV, ...env });
      cleanups.push(() => server.stop('SIGINT'));
      return server;
    };

    it('restarts its private redis-server after kill -9; health, a queued job and a launch in progress recover', async () => {
      const port = await freePort();
      const dataDir = tempDir();
      const baseUrl = `http://127.0.0.1:${port}`;
      const server = startServer({ PORT: String(port), DATA_DIR: dataDir });
      await healthy(baseUrl, 'the first start');

      const { api, id } = await launchWaitingForHost(baseUrl);
      const config = readFileSync(join(dataDir, 'redis/redis.conf'), 'utf8');
      const password = /^requirepass (\S+)$/m.exec(config)![1];
      const redisPort = /^port (\d+)$/m.exec(config)![1];
      const probe = await queueProbeJob(`redis://:${password}@127.0.0.1:${redisPort}`, 3000);

      const redisPid = Number(readFileSync(join(dataDir, 'redis/redis.pid'), 'utf8'));
      process.kill(redisPid, 'SIGKILL');

      const recovered = await healthy(baseUrl, 'health to recover after the kill');
      expect(recovered).toMatchObject({ status: 'ok', database: 'up', redis: 'up', workers: 1 });
      expect(Number(readFileSync(join(dataDir, 'redis/redis.pid'), 'utf8'))).not.toBe(redisPid);
      // The job queued before the kill survived it (append-only file) and was taken afterwards.
      expect(await probe.outcome()).toBe('No handler for job "no-such-job"');
      // The launch carried on through the outage and ended on its own terms (no SSH host there).
      const launch = await finishedDeployment(api, id, 60_000);
      expect(launch).toMatchObject({ status: 'failed', step: 'waiting_for_host' });
      expect(launch.error).not.toMatch(/redis|connection is closed|max retries/i);

      await waitFor(() => (server.output.includes('answers again') ? true : undefined), {
        what: 'the recovery line',
      });
      expect(server.output).not.toContain('Unhandled error event');
      expect(count(server.output, `redis-server (pid ${redisPid}) exited (SIGKILL)`)).toBe(1);
      expect(count(server.output, 'redis-server restarted')).toBe(1);
      expect(count(server.output, 'is unreachable')).toBe(1);
      expect(count(server.output, 'answers again')).toBe(1);
    });

    it('reconnects to an external Redis (REDIS_URL) that was restarted; a queued job is kept', async () => {
      const redisDir = tempDir();
      const redisPort = await freePort();
      writeFileSync(
        join(redisDir, 'redis.conf'),
        [
          'bind 127.0.0.1',
          `port ${redisPort}`,
          `dir ${redisDir}`,
          'appendonly yes',
          'appendfsync always',
          'save ""',
        ].join('\n') + '\n',
      );
      const startRedis = async (): Promise<ChildProcess> => {
        const child = spawn('redis-server', [join(redisDir, 'redis.conf')], { stdio: 'ignore' });
        await waitFor(
          () =>
            spawnSync('redis-cli', ['-p', String(redisPort), 'ping'])
              .stdout?.toString()
              .trim() === 'PONG'
              ? true
              : undefined,
          { what: 'redis-server to answer' },
        );
        return child;
      };
      let redis = await startRedis();
      cleanups.push(() => void redis.kill('SIGKILL'));
      const redisUrl = `redis://127.0.0.1:${redisPort}`;

      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const server = startServer({ PORT: String(port), DATA_DIR: tempDir(), REDIS_URL: redisUrl });
      await healthy(baseUrl, 'the first start');
      const probe = await queueProbeJob(redisUrl, 4000);

      const exited = new Promise((resolve) => redis.once('exit', resolve));
      redis.kill('SIGTERM');
      await exited;
      await waitFor(() => (server.output.includes('is unreachable') ? true : undefined), {
        what: 'the outage to be noticed',
      });
      expect((await health(baseUrl))?.redis).toBe('down');
      redis = await startRedis();

      expect(await healthy(baseUrl, 'health to recover')).toMatchObject({
        redis: 'up',
        workers: 1,
      });
      expect(await probe.outcome()).toBe('No handler for job "no-such-job"');
      await waitFor(() => (server.output.includes('answers again') ? true : undefined), {
        what: 'the recovery line',
      });
      expect(server.output).not.toContain('Unhandled error event');
      expect(count(server.output, 'is unreachable')).toBe(1);
      expect(count(server.output, 'answers again')).toBe(1);
    });

    it('reconnects to PostgreSQL (DATABASE_URL) restarted under it; data and sign-in still work', async () => {
      const postgres = await privatePostgres();
      cleanups.push(() => postgres.stop());

      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      const redisDataDir = tempDir();
      const server = startServer({
        PORT: String(port),
        DATA_DIR: redisDataDir,
        DATABASE_URL: postgres.url,
      });
      await healthy(baseUrl, 'the first start');
      const api = new ApiClient(baseUrl);
      const { email, password } = await api.signUp('pg-restart');
      await sshHostCredential(api, await freePort(), 'kept');

      postgres.restart();

      // The pool's old connections are dead; it opens new ones by itself.
      await healthy(baseUrl, 'health after the PostgreSQL restart');
      const again = new ApiClient(baseUrl);
      expect((await again.login(email, password)).status).toBe(200);
      const list = await again.get<{ name: string }[]>('/credentials');
      expect(list.body.map((credential) => credential.name)).toEqual(['kept']);
      expect(server.child.exitCode).toBeNull();
    });
  },
);

/** A PostgreSQL cluster of this test's own (initdb + pg_ctl as the postgres user, trust auth). */
async function privatePostgres(): Promise<{ url: string; restart(): void; stop(): void }> {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  const dir = tempDir('fieldstation-pg-');
  const data = join(dir, 'data');
  mkdirSync(data);
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  chownSync(data, uid, gid);
  const port = await freePort();
  const asPostgres = (args: string[]) => {
    const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr}`);
  };
  asPostgres([`${bin}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`;
  const pgCtl = (action: string, ...extra: string[]) =>
    asPostgres([`${bin}/pg_ctl`, '-D', data, '-l', join(dir, 'log'), '-w', ...extra, action]);
  pgCtl('start', '-o', options);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => pgCtl('restart', '-m', 'fast', '-o', options),
    stop: () => pgCtl('stop', '-m', 'immediate'),
  };
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user: install PostgreSQL (scripts/services/postgres.sh)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
