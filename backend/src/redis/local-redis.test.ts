import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../../test/test-env';
import { LocalRedis, type LocalRedisEvent } from './local-redis';

describe('LocalRedis (real redis-server)', () => {
  let server: LocalRedis | undefined;
  afterEach(async () => server?.stop());

  it('starts a password-protected, persistent server on loopback and stops it', async () => {
    const dataDir = tempDir();
    server = await LocalRedis.start(dataDir);
    const url = new URL(server.url);
    expect(url.hostname).toBe('127.0.0.1');

    const client = new Redis(server.url);
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    client.disconnect();

    expect(await rawCommand(Number(url.port), 'PING')).toMatch(/^-NOAUTH/);

    const pid = server.pid!;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    // Not in this process's group: a terminal's Ctrl-C must not stop it before the app has.
    expect(processGroup(pid)).not.toBe(processGroup(process.pid));
    await server.stop();
    server = undefined;
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(`${dataDir}/redis/appendonlydir`)).toBe(true);
  });

  it('restarts a killed redis-server on the same URL with what was written before', async () => {
    const events: LocalRedisEvent[] = [];
    server = await LocalRedis.start(tempDir(), (event) => events.push(event));
    const client = new Redis(server.url);
    client.on('error', () => undefined);
    await client.set('queued-job', 'still here');
    const firstPid = server.pid!;

    process.kill(firstPid, 'SIGKILL');
    await waitFor(() => (events.length === 2 ? true : undefined), {
      what: 'the restart to be reported',
      timeoutMs: 10_000,
    });
    const secondPid = server.pid!;
    expect(secondPid).not.toBe(firstPid);
    // The same client reconnects by itself and reads what was written before the kill.
    expect(await waitFor(() => client.get('queued-job'), { timeoutMs: 10_000 })).toBe('still here');
    client.disconnect();
    expect(events.map((event) => event.message)).toEqual([
      `redis-server (pid ${firstPid}) exited (SIGKILL); restarting it from its append-only file`,
      `redis-server restarted (pid ${secondPid})`,
    ]);

    await server.stop();
    server = undefined;
    // Stopped on purpose: no restart.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(`/proc/${secondPid}`)).toBe(false);
    expect(events).toHaveLength(2);
  });

  it('finds redis-server only on the PATH it is given', () => {
    expect(LocalRedis.findBinary('/nonexistent:/also-missing')).toBeUndefined();
    expect(LocalRedis.findBinary(process.env.PATH)).toMatch(/redis-server$/);
  });
});

/** The process group id, field 5 of /proc/<pid>/stat (after the parenthesised name). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Sends one inline command without authenticating and returns the first reply line. */
function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    socket.once('data', (data) => {
      resolve(data.toString().split('\r\n')[0]!);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
