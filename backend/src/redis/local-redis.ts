import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort } from '../common/free-port';

export class LocalRedisUnavailableError extends Error {}

/**
 * A private redis-server that Fieldstation starts when no REDIS_URL is configured:
 * loopback only, a generated password kept in a 0600 config file (never in argv), data under
 * the data dir, append-only persistence and no eviction (BullMQ must never lose keys).
 */
export class LocalRedis {
  private constructor(
    private readonly child: ChildProcess,
    private readonly pidFile: string,
    readonly url: string,
  ) {}

  static findBinary(path = process.env.PATH ?? ''): string | undefined {
    return path
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'redis-server'))
      .find((file) => existsSync(file));
  }

  static async start(dataDir: string): Promise<LocalRedis> {
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
      'maxmemory-policy noeviction',
      'save ""',
      'daemonize no',
      'protected-mode yes',
    ];
    await writeFile(configFile, lines.join('\n') + '\n', { mode: 0o600 });

    const child = spawn(binary, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const url = `redis://:${password}@127.0.0.1:${port}`;
    const server = new LocalRedis(child, pidFile, url);
    process.once('exit', () => child.kill('SIGKILL'));
    try {
      await waitUntilReady(url, child);
    } catch (error) {
      await server.stop();
      throw new LocalRedisUnavailableError(
        `redis-server did not start: ${(error as Error).message} ${stderr.trim()}`.trim(),
      );
    }
    await writeFile(pidFile, String(child.pid), { mode: 0o600 });
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.pidFile, { force: true });
  }
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
