import { spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../src/contract/reading';
import { Logger } from '../src/log/logger';
import { PERL, SECCOMP_EXEC_PERL } from '../src/script/seccomp-exec';
import { ScriptSandbox, type ScriptSandboxOptions } from '../src/script/script-sandbox';

const HOST_FILE = path.join(__dirname, '..', 'dist', 'script-host.cjs');

function reading(device: string): Reading {
  return { measurement: 'm', device, time: Date.now(), data: { n: 1 } };
}

/** Fails instead of waiting forever: a stalled batch is exactly what these tests look for. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the script host boundaries (issue 13 review)', () => {
  const dirs: string[] = [];
  const sandboxes: ScriptSandbox[] = [];

  async function sandboxFor(
    script: string,
    options: Partial<ScriptSandboxOptions>,
  ): Promise<ScriptSandbox> {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-host-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(dir, 'process.js'), script);
    const sandbox = await ScriptSandbox.start({
      scriptPath: path.join(dir, 'process.js'),
      timeoutMs: 1000,
      logger: new Logger('error', { component: 'test' }),
      hostFile: HOST_FILE,
      ...options,
    });
    sandboxes.push(sandbox);
    return sandbox;
  }

  afterEach(async () => {
    for (const sandbox of sandboxes.splice(0)) await sandbox.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('kills a host whose batch outlives the batch deadline, fails that batch and runs the next on a new host', async () => {
    const sandbox = await sandboxFor(
      `export default async function process(reading) {
  if (reading.device === 'stall') await new Promise(() => {});
  return reading;
}
`,
      { timeoutMs: 60_000, batchTimeoutMs: 1500 },
    );
    const stalled = await within(10_000, sandbox.run([reading('stall'), reading('good')]));
    expect(stalled).toEqual([
      { ok: false, reason: 'script batch did not finish within 1500 ms' },
      { ok: false, reason: 'script batch did not finish within 1500 ms' },
    ]);
    const next = await within(10_000, sandbox.run([reading('good')]));
    expect(next).toMatchObject([{ ok: true, readings: [{ device: 'good' }] }]);
    expect(sandbox.status().hostRestarts).toBe(1);
  });

  it("keeps the watchdog's progress counter (workerData) out of the script's reach", async () => {
    // The reviewer's repro: moving the counter made the watchdog believe the call progressed.
    const sandbox = await sandboxFor(
      `import { workerData } from 'node:worker_threads';
export default async function process(reading) {
  if (reading.device === 'stall') {
    setInterval(() => Atomics.add(new Int32Array(workerData.progress), 0, 1), 100);
    await new Promise(() => {});
  }
  return reading;
}
`,
      { timeoutMs: 300, batchTimeoutMs: 60_000 },
    );
    const outcomes = await within(10_000, sandbox.run([reading('stall'), reading('good')]));
    expect(outcomes[0].ok).toBe(false);
    expect(outcomes[1]).toMatchObject({ ok: true, readings: [{ device: 'good' }] });
  });

  it('kills a host that sends a reply the processor did not ask for, and never believes it', async () => {
    // The script's thread shares the host's file descriptors, so it can write to the channel.
    const sandbox = await sandboxFor(
      `import fs from 'node:fs';
export default async function process(reading) {
  if (reading.device === 'forge') {
    const forged = { type: 'results', batchId: '1', outcomes: [{ ok: true, readings: [] }, { ok: true, readings: [] }],
      status: { scriptPath: 'FORGED', loadedAt: 'x', workerRestarts: 999 } };
    fs.writeSync(3, JSON.stringify(forged) + '\\n');
  }
  return reading;
}
`,
      {},
    );
    const outcomes = await within(20_000, sandbox.run([reading('forge'), reading('good')]));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/protocol violation/),
      });
    }
    expect(sandbox.status().scriptPath).not.toBe('FORGED');
    const next = await within(10_000, sandbox.run([reading('good')]));
    expect(next).toMatchObject([{ ok: true, readings: [{ device: 'good' }] }]);
  });

  it('kills a host whose reply exceeds the size cap before buffering it', async () => {
    const sandbox = await sandboxFor(
      `import fs from 'node:fs';
export default async function process(reading) {
  if (reading.device !== 'flood') return reading;
  // The pipe is non-blocking: write until 2 MiB went out, with no newline.
  const piece = Buffer.alloc(64 * 1024, 'x');
  for (let written = 0; written < 2 * 1024 * 1024; ) {
    try {
      written += fs.writeSync(3, piece);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return reading;
}
`,
      { maxReplyBytes: 1024 * 1024 },
    );
    const outcomes = await within(20_000, sandbox.run([reading('flood')]));
    expect(outcomes).toEqual([
      {
        ok: false,
        reason: expect.stringMatching(/protocol violation: a message longer than 1048576 bytes/),
      },
    ]);
  });
});

describe("the script host's seccomp filter", () => {
  let tcpServer: Server;
  let udpServer: UdpSocket;
  const reached: string[] = [];

  beforeAll(async () => {
    tcpServer = createServer((socket) => {
      reached.push('tcp');
      socket.destroy();
    });
    udpServer = createSocket('udp4').on('message', () => reached.push('udp'));
    await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => udpServer.bind(0, '127.0.0.1', resolve));
  });

  afterAll(() => {
    tcpServer?.close();
    udpServer?.close();
  });

  it('refuses every socket to a Node process without any JavaScript lockdown', async () => {
    const tcpPort = (tcpServer.address() as { port: number }).port;
    const udpPort = udpServer.address().port;
    // The reviewer's raw-handle paths, in a process with no lockdown.ts: only the kernel stops them.
    const probe = `
const dgram = require('node:dgram'), net = require('node:net');
const results = {};
const udp = dgram.createSocket('udp4');
const state = Object.getOwnPropertySymbols(udp).map((key) => udp[key]).find((value) => value && value.handle);
results.udpRawBind = state.handle.bind('127.0.0.1', 0, 0);
results.udpRawSend = state.handle.send({ oncomplete() {} }, [Buffer.from('escaped')], 1, ${udpPort}, '127.0.0.1', false);
const listen = new Promise((resolve) => {
  const server = net.createServer();
  server.on('error', (error) => resolve(error.code)).on('listening', () => resolve('listening'));
  server._listen2('127.0.0.1', 0, 4, 10);
});
const connect = new Promise((resolve) => {
  net.connect(${tcpPort}, '127.0.0.1').on('error', (error) => resolve(error.code)).on('connect', () => resolve('connected'));
});
Promise.all([listen, connect]).then(([tcpListen, tcpConnect]) =>
  console.log(JSON.stringify({ ...results, tcpListen, tcpConnect })));
`;
    const child = spawn(PERL, ['-e', SECCOMP_EXEC_PERL, process.execPath, '-e', probe], {
      env: {},
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const results = JSON.parse(output) as Record<string, unknown>;
    // libuv reports errors as negative errno values: -13 is EACCES.
    expect(results).toEqual({
      udpRawBind: -13,
      udpRawSend: -13,
      tcpListen: 'EACCES',
      tcpConnect: 'EACCES',
    });
    expect(reached).toEqual([]);
  });
});
