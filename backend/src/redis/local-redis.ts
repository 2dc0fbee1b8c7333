import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort } from '../common/free-port';

export class LocalRedisUnavailableError extends Error {}

/** What the supervisor reports: an exit, a restart, a failed restart. */
export type LocalRedisEvent = { level: 'log' | 'warn' | 'error'; message: string };

/** First wait before restarting a redis-server that exited, doubled per failed try up to the max. */
const RESTART_DELAY_MS = 200;
const RESTART_DELAY_MAX_MS = 10_000;

/**
 * A private redis-server that Fieldstation starts when no REDIS_URL is configured:
 * loopback only, a generated password kept in a 0600 config file (never in argv), data under
 * the data dir, append-only persistence and no eviction (BullMQ must never lose keys).
 * It is supervised: when it exits without being asked to (a crash, the OOM killer, `kill -9`),
 * it is started again with the same port, password and append-only file, so every client
 * reconnects to the same URL and finds its queues as they were.
 */
export class LocalRedis {
  private stopping = false;
  private restarting: Promise<void> | undefined;

  private constructor(
    private child: ChildProcess,
    private readonly binary: string,
    private readonly configFile: string,
    private readonly pidFile: string,
    readonly url: string,
    private readonly report: (event: LocalRedisEvent) => void,
  ) {}

  static findBinary(path = process.env.PATH ?? ''): string | undefined {
    return path
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'redis-server'))
      .find((file) => existsSync(file));
  }

  static async start(
    dataDir: string,
    report: (event: LocalRedisEvent) => void = () => undefined,
  ): Promise<LocalRedis> {
    const binary = LocalRedis.findBinary();
    if (!binary) {
      throw new LocalRedisUnavailableError(
        'redis-server is not installed. Install it (sudo apt-get install redis-server) ' +
          'or set REDIS_URL=redis://host:6379 to use an existing Redis.',
      );
    }
    const dir = join(dataDir, 'redis');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pidFile = join(dir, 'redis.pid');
    await stopStaleServer(pidFile);

    const port = await freeLoopbackPort();
    const password = randomBytes(24).toString('hex');
    const configFile = join(dir, 'redis.conf');
    const lines = [
      'bind 127.0.0.1',
      `port ${port}`,
      `dir ${dir}`,
      `requirepass ${password}`,
      'appendonly yes',
      // Every write reaches the disk before Redis answers, so a job that was queued survives a
      // crash of redis-server (the default, everysec, may lose the last second). Fieldstation
      // writes a few keys per job and log line, far below what fsync per write costs.
      'appendfsync always',
      'maxmemory-policy noeviction',
      'save ""',
      'daemonize no',
      'protected-mode yes',
    ];
    await writeFile(configFile, lines.join('\n') + '\n', { mode: 0o600 });

    const url = `redis://:${password}@127.0.0.1:${port}`;
    const { child, stderr } = spawnServer(binary, configFile);
    const server = new LocalRedis(child, binary, configFile, pidFile, url, report);
    process.once('exit', () => server.child.kill('SIGKILL'));
    try {
      await waitUntilReady(url, child);
    } catch (error) {
      await server.stop();
      throw new LocalRedisUnavailableError(
        `redis-server did not start: ${(error as Error).message} ${stderr().trim()}`.trim(),
      );
    }
    await writeFile(pidFile, String(child.pid), { mode: 0o600 });
    server.supervise(child);
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.restarting;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.pidFile, { force: true });
  }

  private supervise(child: ChildProcess): void {
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.report({
        level: 'warn',
        message:
          `redis-server (pid ${child.pid}) exited (${signal ?? `code ${code}`}); ` +
          'restarting it from its append-only file',
      });
      this.restarting = this.restart().finally(() => (this.restarting = undefined));
    });
  }

  /** Starts the server again with the same config until it answers, backing off between tries. */
  private async restart(): Promise<void> {
    let delay = RESTART_DELAY_MS;
    for (let attempt = 1; !this.stopping; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.stopping) return;
      const { child, stderr } = spawnServer(this.binary, this.configFile);
      this.child = child;
      try {
        await waitUntilReady(this.url, child);
      } catch (error) {
        child.kill('SIGKILL');
        this.report({
          level: 'error',
          message:
            `redis-server did not restart (try ${attempt}): ${(error as Error).message} ` +
            `${stderr().trim()}`.trim(),
        });
        delay = Math.min(delay * 2, RESTART_DELAY_MAX_MS);
        continue;
      }
      await writeFile(this.pidFile, String(child.pid), { mode: 0o600 });
      if (this.stopping) return;
      this.report({ level: 'log', message: `redis-server restarted (pid ${child.pid})` });
      this.supervise(child);
      return;
    }
  }
}

function spawnServer(
  binary: string,
  configFile: string,
): { child: ChildProcess; stderr: () => string } {
  // A process group of its own: Ctrl-C in a terminal (or `timeout`) signals the whole foreground
  // group, and redis-server must outlive the app's shutdown, which still talks to it; main stops
  // it last. If this process dies without stopping it, the next start ends it by its pid file.
  const child = spawn(binary, [configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  return { child, stderr: () => stderr };
}

async function stopStaleServer(pidFile: string): Promise<void> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''));
  if (!pid) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline.includes('redis-server')) process.kill(pid, 'SIGTERM');
  await rm(pidFile, { force: true });
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs = 15000): Promise<void> {
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`exited with code ${code}`))),
  );
  const deadline = Date.now() + timeoutMs;
  const ping = async (): Promise<void> => {
    for (;;) {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        client.disconnect();
      }
    }
  };
  await Promise.race([ping(), exited]);
}
