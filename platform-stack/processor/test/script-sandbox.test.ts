import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestVhost,
  drainQueue,
  openPublisher,
  queueDepth,
  type TestVhost,
} from './support/broker';
import { createTestPostgresDatabase, type TestPostgresDatabase } from './support/databases';
import { ProcessorProcess } from './support/processor-process';
import { waitFor } from './support/wait';

const DEAD_LETTER_QUEUE = 'telemetry.dead-letter';
const STACK_SECRET = 'stack-env-secret-7f3a9c';

/**
 * Each device name is one escape attempt. An attempt that works stores what it got in `data.got`;
 * one that the sandbox stops throws, and the reading is dead-lettered with the reason.
 */
function escapeScript(ports: { tcp: number; http: number; udp: number }): string {
  return `import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import dns from 'node:dns';
import childProcess from 'node:child_process';
import workerThreads, { Worker } from 'node:worker_threads';
import { register } from 'node:module';

const attempts = {
  env: () => JSON.stringify(process.env),
  'ctx-constructor': (ctx) => JSON.stringify(ctx.constructor.constructor('return process')().env),
  'ctx-log-constructor': (ctx) => JSON.stringify(ctx.log.constructor('return process')().env),
  'read-passwd': () => fs.readFileSync('/etc/passwd', 'utf8'),
  'read-stack-env': () => fs.readFileSync(new URL('../../.env', import.meta.url), 'utf8'),
  'read-processor-environ': () => fs.readFileSync('/proc/' + process.ppid + '/environ', 'utf8'),
  'child-process': () => childProcess.execFileSync('/bin/sh', ['-c', 'echo spawned']).toString(),
  'process-binding': () => Object.keys(process.binding('spawn_sync')).join(','),
  'tcp-connect': () => new Promise((resolve, reject) => {
    const socket = net.connect(${ports.tcp}, '127.0.0.1', () => { socket.end('escaped'); resolve('connected'); });
    socket.on('error', reject);
  }),
  fetch: async () => (await fetch('http://127.0.0.1:${ports.http}/')).status,
  'udp-send': () => new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.send('escaped', ${ports.udp}, '127.0.0.1', (error) => (error ? reject(error) : resolve('sent')));
  }),
  // The security review's paths to a native socket handle around the patched functions.
  'udp-raw-handle': () => {
    const socket = dgram.createSocket('udp4');
    const state = Object.getOwnPropertySymbols(socket).map((key) => socket[key]).find((value) => value?.handle);
    state.handle.bind('127.0.0.1', 0, 0);
    return String(state.handle.send({ oncomplete() {} }, [Buffer.from('escaped')], 1, ${ports.udp}, '127.0.0.1', false));
  },
  'tcp-listen2': () => new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject).on('listening', () => { resolve('listening'); server.close(); });
    server._listen2('127.0.0.1', 0, 4, 10);
  }),
  'ipc-fd-socket': () => { new net.Socket({ fd: 3, readable: false, writable: true }); return 'opened'; },
  // The watchdog's progress counter and the host's port: nothing for the script.
  'worker-data': () => JSON.stringify({
    workerData: workerThreads.workerData,
    parentPort: workerThreads.parentPort ? 'present' : undefined,
  }),
  'dns-lookup': () => new Promise((resolve, reject) =>
    dns.lookup('localhost', (error, address) => (error ? reject(error) : resolve(address))),
  ),
  'worker-thread': () => new Promise((resolve, reject) => {
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(1)', { eval: true });
    worker.on('message', () => resolve('worker ran'));
    worker.on('error', reject);
  }),
  'loader-hook': () => { register('data:text/javascript,export{}'); return 'registered'; },
  'signal-processor': () => String(process.kill(process.ppid, 0)),
};

export default async function process_(reading, ctx) {
  const attempt = attempts[reading.device];
  if (!attempt) return { ...reading, data: { ...reading.data, ok: true } };
  return { ...reading, data: { got: String(await attempt(ctx)) } };
}
`;
}

const ESCAPES = [
  'env',
  'ctx-constructor',
  'ctx-log-constructor',
  'read-passwd',
  'read-stack-env',
  'read-processor-environ',
  'child-process',
  'process-binding',
  'tcp-connect',
  'fetch',
  'udp-send',
  'udp-raw-handle',
  'tcp-listen2',
  'ipc-fd-socket',
  'worker-data',
  'dns-lookup',
  'worker-thread',
  'loader-hook',
  'signal-processor',
];
/** Reading the environment (or workerData) does not throw in the sandbox: it is empty. */
const RETURNS_NOTHING = new Set(['env', 'ctx-constructor', 'ctx-log-constructor', 'worker-data']);

describe('the sandbox around the user script', () => {
  let vhost: TestVhost;
  let database: TestPostgresDatabase;
  let processor: ProcessorProcess;
  let stackDir: string;
  let tcpServer: Server;
  let httpServer: Server;
  let udpServer: UdpSocket;
  const reached: string[] = [];

  beforeAll(async () => {
    vhost = await createTestVhost();
    database = await createTestPostgresDatabase();
    // Real listeners the script tries to reach; anything arriving at them is an escape.
    tcpServer = createServer((socket) => {
      reached.push('tcp');
      socket.destroy();
    });
    httpServer = createServer((socket) => {
      reached.push('http');
      socket.destroy();
    });
    udpServer = createSocket('udp4').on('message', () => reached.push('udp'));
    await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => udpServer.bind(0, '127.0.0.1', resolve));
    const port = (server: Server) => (server.address() as { port: number }).port;

    // The platform's layout: <stack>/.env next to <stack>/processor/script/process.js.
    stackDir = mkdtempSync(path.join(tmpdir(), 'fs-stack-'));
    writeFileSync(path.join(stackDir, '.env'), `FIELDSTATION_DATABASE_PASSWORD=${STACK_SECRET}\n`);
    const scriptDir = path.join(stackDir, 'processor', 'script');
    mkdirSync(scriptDir, { recursive: true });
    writeFileSync(path.join(scriptDir, 'package.json'), '{"type":"module"}\n');
    const scriptPath = path.join(scriptDir, 'process.js');
    writeFileSync(
      scriptPath,
      escapeScript({ tcp: port(tcpServer), http: port(httpServer), udp: udpServer.address().port }),
    );
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      DATABASE_KIND: 'postgres',
      POSTGRES_URL: database.url,
      SCRIPT_PATH: scriptPath,
      SCRIPT_TIMEOUT_MS: '2000',
      PROCESSOR_BATCH_SIZE: '10',
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await database?.drop();
    await vhost?.delete();
    tcpServer?.close();
    httpServer?.close();
    udpServer?.close();
    if (stackDir) rmSync(stackDir, { recursive: true, force: true });
  });

  it('stops every escape inside the script while the other readings flow', async () => {
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      for (let i = 0; i < 20; i++) {
        publisher.publishJson('amq.topic', `telemetry.room.good-${i}`, { data: { raw: i } });
        const escape = ESCAPES[i];
        if (escape) publisher.publishJson('amq.topic', `telemetry.escape.${escape}`, { data: {} });
      }
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }

    const good = await waitFor('20 good readings', async () => {
      const rows = await database.query<{ device: string }>(
        "SELECT device FROM readings WHERE measurement = 'room' AND data->>'ok' = 'true'",
      );
      return rows.length >= 20 && rows;
    });
    expect(good).toHaveLength(20);

    const storedEscapes = async () =>
      database.query<{ device: string; got: string }>(
        "SELECT device, data->>'got' AS got FROM readings WHERE measurement = 'escape'",
      );
    // Every attempt ends either stored (it escaped, or got nothing) or dead-lettered (stopped).
    await waitFor(
      'every escape attempt to be stored or dead-lettered',
      async () =>
        (await storedEscapes()).length + (await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)) >=
        ESCAPES.length,
    );
    const letters = await drainQueue(vhost.amqpUrl, DEAD_LETTER_QUEUE);
    const deadLettered = Object.fromEntries(
      letters.map((letter) => [
        String(letter.properties.headers?.['x-original-routing-key']).replace(
          'telemetry.escape.',
          '',
        ),
        {
          stage: letter.properties.headers?.['x-fieldstation-stage'],
          reason: String(letter.properties.headers?.['x-fieldstation-reason']),
        },
      ]),
    );
    const got = Object.fromEntries((await storedEscapes()).map((row) => [row.device, row.got]));

    // One map, so a failure shows every attempt that got through at once.
    const outcome = (escape: string): string => {
      if (got[escape] !== undefined) {
        return got[escape] === '{}' ? 'got nothing' : `escaped: ${got[escape].slice(0, 160)}`;
      }
      const letter = deadLettered[escape];
      if (!letter) return 'lost';
      return letter.stage === 'script' && /restricted|not allowed|denied/i.test(letter.reason)
        ? 'stopped'
        : `dead-lettered for another reason: ${letter.stage} ${letter.reason}`;
    };
    expect(Object.fromEntries(ESCAPES.map((escape) => [escape, outcome(escape)]))).toEqual(
      Object.fromEntries(
        ESCAPES.map((escape) => [escape, RETURNS_NOTHING.has(escape) ? 'got nothing' : 'stopped']),
      ),
    );
    expect(reached).toEqual([]);
    // Nothing the script could see carried a secret of the processor or the stack.
    const everything = JSON.stringify({ got, deadLettered });
    expect(everything).not.toContain(STACK_SECRET);
    expect(everything).not.toContain(new URL(vhost.amqpUrl).password);
    expect(everything).not.toContain('POSTGRES_URL');

    const status = await processor.status();
    expect(status.consuming).toBe(true);
  });
});
