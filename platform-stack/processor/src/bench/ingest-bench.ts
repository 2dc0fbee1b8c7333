/**
 * `npm run bench:ingest [-- --quick | --count N] [--rounds R] [--no-script]`: how fast readings go
 * from AMQP publishers into the database on this machine, compared with the broker's own limit (a
 * null consumer) and a MyT-style consumer (one INSERT committed per message). Every consumer runs
 * in its own process with the processor's prefetch, against the same broker, database and machine.
 *
 * Two measurements per consumer, both printed: `live` (the issue's: the publisher runs while the
 * consumer consumes, so on a small machine they compete for the same cores) and `drain` (the queue
 * is filled first, then the consumer alone is timed). Rounds interleave all consumers, so a busy
 * spell on a shared machine hits every one of them; the summary gives medians and ranges.
 * Uses the test services (scripts/services/*.sh; started here when their variables are unset),
 * a private vhost and fresh databases per scenario, and removes them afterwards.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { Client } from 'pg';
import { loadProcessorConfig } from '../config/processor-config';
import { assertTopology } from '../contract/topology';
import { PostgresReadingWriter } from '../writers/postgres-reading-writer';
import {
  runBaselineConsumer,
  runNullConsumer,
  type ConsumerJob,
  type ConsumerReport,
} from './bench-consumers';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const PROCESSOR_MAIN = path.resolve(__dirname, '..', 'main.cjs');
const SCRIPT_TEMPLATE = path.resolve(__dirname, '..', '..', 'template', 'process.js');
const QUEUE = 'telemetry';
const DEVICES = 1000;
const PUBLISH_WINDOW = 2000;

type Mode = 'live' | 'drain';
type ConsumerKey = 'null' | 'postgres' | 'influxdb' | 'baseline';

const NAMES: Record<ConsumerKey, string> = {
  null: '1. null consumer (ack only, broker limit)',
  postgres: '2a. processor -> PostgreSQL',
  influxdb: '2b. processor -> InfluxDB',
  baseline: '3. MyT-style baseline (insert+commit per msg)',
};

/**
 * CPU time per reading (microseconds) of the consumer, the broker and the database, when /proc
 * exists, and of the publisher in live runs (where it shares the cores with the others).
 */
interface CpuPerReading {
  publisher?: number;
  consumer: number;
  broker?: number;
  database?: number;
}

interface ScenarioResult {
  key: ConsumerKey;
  mode: Mode;
  readingsPerSecond: number;
  p50: number | null;
  p99: number | null;
  found: number;
  published: number;
  cpu: CpuPerReading;
}

/** The services' variables, from the environment or by starting the test services. */
function serviceEnvironment(): Record<string, string> {
  const needed: Record<string, string> = {
    FS_TEST_AMQP_URL: 'rabbitmq',
    FS_TEST_RABBITMQ_API_URL: 'rabbitmq',
    FS_TEST_POSTGRES_URL: 'postgres',
    FS_TEST_INFLUX_URL: 'influxdb',
  };
  const env: Record<string, string> = {};
  for (const [name, service] of Object.entries(needed)) {
    if (!process.env[name] && !env[name]) {
      const output = execFileSync(
        path.join(REPO_ROOT, 'scripts', 'services', `${service}.sh`),
        ['start'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      for (const match of output.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[match[1]] = match[2];
    }
    const value = process.env[name] ?? env[name];
    if (!value)
      throw new Error(`${name} is not set and scripts/services/${service}.sh did not provide it`);
    env[name] = value;
  }
  return env;
}

class BenchVhost {
  private constructor(
    private readonly apiUrl: string,
    private readonly authorization: string,
    readonly name: string,
    readonly amqpUrl: string,
  ) {}

  static async create(adminAmqpUrl: string, apiUrl: string, label: string): Promise<BenchVhost> {
    const url = new URL(adminAmqpUrl);
    const user = decodeURIComponent(url.username);
    const authorization = `Basic ${Buffer.from(`${user}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    const name = `fs-bench-${label}-${process.pid}`;
    const vhost = new BenchVhost(apiUrl, authorization, name, '');
    await vhost.api('PUT', `/vhosts/${encodeURIComponent(name)}`);
    await vhost.api('PUT', `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(user)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    url.pathname = `/${encodeURIComponent(name)}`;
    return new BenchVhost(apiUrl, authorization, name, url.href);
  }

  async delete(): Promise<void> {
    await this.api('DELETE', `/vhosts/${encodeURIComponent(this.name)}`);
  }

  private async api(method: string, apiPath: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.apiUrl}/api${apiPath}`, {
      method,
      headers: { authorization: this.authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404)
      throw new Error(`RabbitMQ API ${method}: HTTP ${response.status}`);
  }
}

async function withPostgresDatabase<T>(
  adminUrl: string,
  label: string,
  use: (url: string) => Promise<T>,
): Promise<T> {
  const name = `fs_bench_${label}_${process.pid}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await use(url.href);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

async function countPostgresReadings(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>(
      "SELECT count(DISTINCT data->>'seq') AS count FROM readings",
    );
    return Number(result.rows[0].count);
  } finally {
    await client.end();
  }
}

async function influxQuery(url: string, query: string, db?: string): Promise<unknown> {
  const body = new URLSearchParams({ q: query, ...(db ? { db } : {}) });
  const response = await fetch(`${url}/query`, { method: 'POST', body });
  if (!response.ok) throw new Error(`InfluxDB query failed: HTTP ${response.status}`);
  return response.json();
}

interface Publication {
  startedAt: number;
  /** CPU time of this process while it published and waited for the confirms. */
  cpuMicros: number;
}

/**
 * Publishes `count` readings with publisher confirms, keeping up to PUBLISH_WINDOW unconfirmed
 * (a confirm frees a slot, so publishing never stops to wait for a whole window).
 */
async function publishReadings(amqpUrl: string, count: number): Promise<Publication> {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createConfirmChannel();
  const lastTs = new Float64Array(DEVICES);
  let unconfirmed = 0;
  let slotFreed: (() => void) | undefined;
  let failure: unknown;
  const startedAt = Date.now();
  const cpuAtStart = process.cpuUsage();
  for (let seq = 0; seq < count; seq++) {
    while (unconfirmed >= PUBLISH_WINDOW)
      await new Promise<void>((resolve) => (slotFreed = resolve));
    if (failure) throw failure;
    const device = seq % DEVICES;
    // Strictly increasing per device: InfluxDB keeps one point per series and timestamp.
    const ts = Math.max(Date.now(), lastTs[device] + 1);
    lastTs[device] = ts;
    const body = {
      measurement: 'bench',
      device: `dev-${device}`,
      ts,
      data: { seq, raw: 2000 + (seq % 500) },
    };
    unconfirmed++;
    const ok = channel.publish(
      'amq.topic',
      `telemetry.bench.dev-${device}`,
      Buffer.from(JSON.stringify(body)),
      { persistent: true },
      (error: unknown) => {
        if (error) failure = error;
        unconfirmed--;
        slotFreed?.();
        slotFreed = undefined;
      },
    );
    if (!ok) await new Promise((resolve) => channel.once('drain', resolve));
  }
  await channel.waitForConfirms();
  const cpu = process.cpuUsage(cpuAtStart);
  if (failure) throw failure;
  await connection.close();
  return { startedAt, cpuMicros: cpu.user + cpu.system };
}

async function declareQueue(amqpUrl: string): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  await assertTopology(channel, { queue: QUEUE, deadLetterQueue: `${QUEUE}.dead-letter` });
  await connection.close();
}

/** Runs a consumer in its own process (like the processor), so it does not share the publisher's core. */
async function runConsumerProcess(
  job: ConsumerJob,
): Promise<{ child: ChildProcess; report: Promise<ConsumerReport> }> {
  const child = fork(__filename, ['--consumer'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const report = new Promise<ConsumerReport>((resolve, reject) => {
    child.on('message', (message: { type: string; report?: ConsumerReport }) => {
      if (message.type === 'ready') ready();
      if (message.type === 'done' && message.report) resolve(message.report);
    });
    child.once('exit', (code) => reject(new Error(`${job.role} exited with code ${code}`)));
  });
  child.send(job);
  await readyPromise;
  return { child, report };
}

/** USER_HZ, 100 on every Linux architecture Node supports. */
const CLOCK_TICK_MICROS = 10_000;

interface ProcStat {
  command: string;
  parent: number;
  /** utime + stime, microseconds (all threads). */
  cpu: number;
  /** cutime + cstime: children that exited and were waited for. */
  childrenCpu: number;
}

function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  // After "pid (comm) ": state, ppid, … utime (index 11), stime, cutime, cstime.
  const fields = stat.slice(close + 2).split(' ');
  return {
    command: stat.slice(stat.indexOf('(') + 1, close),
    parent: Number(fields[1]),
    cpu: (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MICROS,
    childrenCpu: (Number(fields[13]) + Number(fields[14])) * CLOCK_TICK_MICROS,
  };
}

function processCpuMicros(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : procStat(pid)?.cpu;
}

/**
 * A process and all its children, living or exited: PostgreSQL's postmaster with its backends.
 * Undefined where /proc is not available.
 */
function processTreeCpuMicros(root: number): number | undefined {
  const rootStat = procStat(root);
  if (!rootStat) return undefined;
  let total = rootStat.cpu + rootStat.childrenCpu;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.parent === root) total += stat.cpu;
  }
  return total;
}

/** Every process with this command name (InfluxDB has no API that names its process id). */
function commandCpuMicros(command: string): number | undefined {
  let total: number | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.command === command) total = (total ?? 0) + stat.cpu + stat.childrenCpu;
  }
  return total;
}

/** How to read the CPU time of the test services: the broker's and PostgreSQL's own processes. */
interface ServiceProcesses {
  broker?: number;
  postmaster?: number;
}

/** The broker's OS process, from its management API (asked again while the node finishes booting). */
async function brokerProcessId(env: Record<string, string>): Promise<number> {
  const url = new URL(env.FS_TEST_AMQP_URL);
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  let answer = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const response = await fetch(`${env.FS_TEST_RABBITMQ_API_URL}/api/nodes?columns=os_pid`, {
      headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    }).catch((error: unknown) => error as Error);
    if (!(response instanceof Error) && response.ok) {
      const [node] = (await response.json()) as { os_pid?: string }[];
      if (node?.os_pid) return Number(node.os_pid);
      answer = 'the node list has no os_pid';
    } else {
      answer = response instanceof Error ? response.message : `HTTP ${response.status}`;
    }
    await sleep(500);
  }
  throw new Error(`the management API did not name the node's process (${answer})`);
}

async function findServiceProcesses(env: Record<string, string>): Promise<ServiceProcesses> {
  const found: ServiceProcesses = {};
  if (!existsSync('/proc/self/stat')) return found;
  found.broker = await brokerProcessId(env).catch((error: unknown) => {
    console.log(
      `no CPU figures for the broker: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  });
  const client = new Client({ connectionString: env.FS_TEST_POSTGRES_URL });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    found.postmaster = procStat(rows[0].pid)?.parent;
  } catch {
    // no CPU figure for PostgreSQL
  } finally {
    await client.end().catch(() => undefined);
  }
  return found;
}

let serviceProcesses: ServiceProcesses = {};

/** CPU of the broker and the database between two points in time. */
class ServiceCpu {
  private readonly brokerAtStart: number | undefined;
  private readonly databaseAtStart: number | undefined;

  constructor(private readonly database: 'postgres' | 'influxdb' | undefined) {
    this.brokerAtStart = this.brokerCpu();
    this.databaseAtStart = this.databaseCpu();
  }

  perReading(readings: number, consumerMicros: number, publication?: Publication): CpuPerReading {
    const since = (atStart: number | undefined, now: number | undefined) =>
      atStart === undefined || now === undefined ? undefined : (now - atStart) / readings;
    return {
      publisher: publication && publication.cpuMicros / readings,
      consumer: consumerMicros / readings,
      broker: since(this.brokerAtStart, this.brokerCpu()),
      database: since(this.databaseAtStart, this.databaseCpu()),
    };
  }

  private brokerCpu(): number | undefined {
    return processCpuMicros(serviceProcesses.broker);
  }

  private databaseCpu(): number | undefined {
    if (this.database === 'influxdb') return commandCpuMicros('influxd');
    if (this.database === 'postgres' && serviceProcesses.postmaster !== undefined)
      return processTreeCpuMicros(serviceProcesses.postmaster);
    return undefined;
  }
}

/**
 * One consumer (null or baseline) in its own process. `live`: subscribed first, then the readings
 * are published, timed from the first publish to the last acknowledgement. `drain`: the queue is
 * filled first (nothing consumes), then timed from the subscription to the last acknowledgement.
 */
async function consumerScenario(
  key: ConsumerKey,
  mode: Mode,
  job: Omit<ConsumerJob, 'queue'>,
  count: (consumed: number) => Promise<number>,
): Promise<ScenarioResult> {
  await declareQueue(job.amqpUrl);
  if (mode === 'drain') await publishReadings(job.amqpUrl, job.expected);
  const services = new ServiceCpu(job.role === 'baseline-consumer' ? 'postgres' : undefined);
  const { report } = await runConsumerProcess({ ...job, queue: QUEUE });
  const publication =
    mode === 'live' ? await publishReadings(job.amqpUrl, job.expected) : undefined;
  const done = await report;
  const startedAt = publication?.startedAt ?? done.startedAt;
  return {
    key,
    mode,
    readingsPerSecond: job.expected / ((done.finishedAt - startedAt) / 1000),
    p50: done.p50,
    p99: done.p99,
    found: await count(done.consumed),
    published: job.expected,
    cpu: services.perReading(job.expected, done.cpuMicros, publication),
  };
}

interface ProcessorStatus {
  consuming: boolean;
  readingsOut: number;
  messagesFailed: number;
  endToEndLatencyMs: { p50: number | null; p99: number | null };
}

/** The processor bundle in its own process, timed like `consumerScenario`. */
async function processorScenario(
  key: ConsumerKey,
  mode: Mode,
  amqpUrl: string,
  databaseEnv: Record<string, string>,
  expected: number,
  count: () => Promise<number>,
): Promise<ScenarioResult> {
  if (mode === 'drain') {
    await declareQueue(amqpUrl);
    await publishReadings(amqpUrl, expected);
  }
  const services = new ServiceCpu(key === 'postgres' ? 'postgres' : 'influxdb');
  const child = spawn(process.execPath, [PROCESSOR_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      AMQP_URL: amqpUrl,
      ...(process.argv.includes('--no-script') ? {} : { SCRIPT_PATH: SCRIPT_TEMPLATE }),
      // Tuning knobs pass through, e.g. PROCESSOR_BATCH_SIZE=2000 npm run bench:ingest.
      ...processorTuning(),
      STATUS_HOST: '127.0.0.1',
      STATUS_PORT: '0',
      ...databaseEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The processor logs the status port it bound (port 0 = any free port) and when it subscribed.
  let statusPort = 0;
  let consumingSince = 0;
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const entry = JSON.parse(line) as { msg?: string; time?: string; port?: number };
      if (entry.msg === 'status endpoint listening' && entry.port) statusPort = entry.port;
      if (entry.msg === 'consuming' && entry.time) consumingSince = Date.parse(entry.time);
    }
  });
  const status = async (): Promise<ProcessorStatus | undefined> => {
    if (!statusPort) return undefined;
    try {
      return (await (
        await fetch(`http://127.0.0.1:${statusPort}/status`)
      ).json()) as ProcessorStatus;
    } catch {
      return undefined;
    }
  };
  try {
    await until(
      async () => consumingSince > 0 && (await status())?.consuming === true,
      30_000,
      'the processor to start',
      mode === 'drain' ? 5 : 100,
    );
    // The processor and its script host (the child process that runs the user's script).
    const processorCpu = () =>
      (child.pid === undefined ? undefined : processTreeCpuMicros(child.pid)) ?? 0;
    const cpuAtStart = processorCpu();
    const publication = mode === 'live' ? await publishReadings(amqpUrl, expected) : undefined;
    const startedAt = publication?.startedAt ?? consumingSince;
    let last: ProcessorStatus | undefined;
    await until(
      async () => {
        last = await status();
        return last !== undefined && last.readingsOut + last.messagesFailed >= expected;
      },
      600_000,
      'the processor to store every reading',
      20,
    );
    const finishedAt = Date.now();
    const cpu = services.perReading(expected, processorCpu() - cpuAtStart, publication);
    return {
      key,
      mode,
      readingsPerSecond: expected / ((finishedAt - startedAt) / 1000),
      p50: last?.endToEndLatencyMs.p50 ?? null,
      p99: last?.endToEndLatencyMs.p99 ?? null,
      found: await count(),
      published: expected,
      cpu,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function processorTuning(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith('PROCESSOR_') && entry[1] !== undefined,
    ),
  );
}

/** The prefetch the processor runs with (its own defaults and the PROCESSOR_* overrides). */
function processorPrefetch(): number {
  return loadProcessorConfig({
    ...processorTuning(),
    AMQP_URL: 'amqp://unused',
    DATABASE_KIND: 'postgres',
    POSTGRES_URL: 'postgres://unused',
  }).prefetch;
}

async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function parseArguments(argv: string[]): { count: number; rounds: number } {
  const option = (name: string, min: number): number | undefined => {
    const index = argv.indexOf(name);
    if (index < 0) return undefined;
    const value = Number(argv[index + 1]);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`${name} needs an integer of at least ${min}`);
    return value;
  };
  const quick = argv.includes('--quick');
  return {
    count: option('--count', 1000) ?? (quick ? 20_000 : 200_000),
    rounds: option('--rounds', 1) ?? (quick ? 3 : 1),
  };
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);
const micros = (value: number | undefined) => (value === undefined ? '?' : value.toFixed(0));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median and range of one consumer's rates in one mode. */
function rates(results: ScenarioResult[], key: ConsumerKey, mode: Mode) {
  const values = results
    .filter((result) => result.key === key && result.mode === mode)
    .map((result) => result.readingsPerSecond);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

async function main(): Promise<void> {
  const { count, rounds } = parseArguments(process.argv.slice(2));
  const env = serviceEnvironment();
  const prefetch = processorPrefetch();
  serviceProcesses = await findServiceProcesses(env);
  console.log(
    `ingest benchmark: ${format(count)} readings per scenario, ${rounds} round(s), ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log(
    'publisher: one AMQP connection, persistent messages, publisher confirms (up to 2000 unconfirmed), 1000 devices; ' +
      `every consumer uses the processor's prefetch (${prefetch})`,
  );
  console.log(
    'live: consumer subscribed, then the publisher runs (publisher, broker, consumer and database share the cores), timed from the first publish to the last reading stored;\n' +
      'drain: the queue is filled first, then the consumer alone is timed from its subscription to the last reading stored;\n' +
      'CPU per reading: the consumer process, the broker node (os_pid from its API), the PostgreSQL cluster (postmaster and its children) or influxd; the services are shared with other jobs, so theirs is an upper bound',
  );

  const results: ScenarioResult[] = [];
  const run = async (
    round: string,
    label: string,
    scenario: (vhost: BenchVhost) => Promise<ScenarioResult>,
  ) => {
    const vhost = await BenchVhost.create(
      env.FS_TEST_AMQP_URL,
      env.FS_TEST_RABBITMQ_API_URL,
      label,
    );
    try {
      const result = await scenario(vhost);
      results.push(result);
      const { cpu } = result;
      console.log(
        `${round} ${result.mode.padEnd(5)} ${NAMES[result.key].padEnd(46)} ${format(result.readingsPerSecond).padStart(7)} readings/s   ` +
          `e2e p50 ${ms(result.p50)}, p99 ${ms(result.p99)}   found ${result.found} of ${result.published}   ` +
          'CPU us/reading: ' +
          (cpu.publisher === undefined ? '' : `publisher ${micros(cpu.publisher)}, `) +
          `consumer ${micros(cpu.consumer)}, broker ${micros(cpu.broker)}` +
          (cpu.database === undefined ? '' : `, database ${micros(cpu.database)}`),
      );
    } finally {
      await vhost.delete();
    }
  };
  const nullScenario = (mode: Mode) => (vhost: BenchVhost) =>
    consumerScenario(
      'null',
      mode,
      { role: 'null-consumer', amqpUrl: vhost.amqpUrl, expected: count, prefetch },
      async (consumed) => consumed,
    );
  const postgresScenario = (mode: Mode) => (vhost: BenchVhost) =>
    withPostgresDatabase(env.FS_TEST_POSTGRES_URL, `processor_${mode}`, (url) =>
      processorScenario(
        'postgres',
        mode,
        vhost.amqpUrl,
        { DATABASE_KIND: 'postgres', POSTGRES_URL: url },
        count,
        () => countPostgresReadings(url),
      ),
    );
  const influxScenario = (mode: Mode) => async (vhost: BenchVhost) => {
    const database = `fs_bench_${mode}_${process.pid}`;
    try {
      return await processorScenario(
        'influxdb',
        mode,
        vhost.amqpUrl,
        {
          DATABASE_KIND: 'influxdb',
          INFLUX_URL: env.FS_TEST_INFLUX_URL,
          INFLUX_DATABASE: database,
        },
        count,
        async () => {
          const answer = (await influxQuery(
            env.FS_TEST_INFLUX_URL,
            'SELECT count("seq") FROM "bench"',
            database,
          )) as {
            results: { series?: { values: [string, number][] }[] }[];
          };
          return answer.results[0].series?.[0].values[0][1] ?? 0;
        },
      );
    } finally {
      await influxQuery(env.FS_TEST_INFLUX_URL, `DROP DATABASE "${database}"`);
    }
  };
  const baselineScenario = (mode: Mode) => (vhost: BenchVhost) =>
    withPostgresDatabase(env.FS_TEST_POSTGRES_URL, `baseline_${mode}`, async (url) => {
      const writer = new PostgresReadingWriter(url);
      await writer.prepare();
      await writer.close();
      return consumerScenario(
        'baseline',
        mode,
        {
          role: 'baseline-consumer',
          amqpUrl: vhost.amqpUrl,
          expected: count,
          prefetch,
          postgresUrl: url,
        },
        () => countPostgresReadings(url),
      );
    });

  // Rounds interleave every consumer, so a busy spell on the shared machine hits all of them.
  for (let round = 1; round <= rounds; round++) {
    const tag = `[${round}/${rounds}]`;
    await run(tag, 'null', nullScenario('live'));
    await run(tag, 'pg', postgresScenario('live'));
    await run(tag, 'influx', influxScenario('live'));
    await run(tag, 'baseline', baselineScenario('live'));
    await run(tag, 'null-drain', nullScenario('drain'));
    await run(tag, 'pg-drain', postgresScenario('drain'));
    await run(tag, 'baseline-drain', baselineScenario('drain'));
  }
  // The null consumer once more at the end, so its runs bracket everything else.
  await run('[end]', 'null', nullScenario('live'));
  await run('[end]', 'null-drain', nullScenario('drain'));

  const table: [ConsumerKey, Mode[]][] = [
    ['null', ['live', 'drain']],
    ['postgres', ['live', 'drain']],
    ['influxdb', ['live']],
    ['baseline', ['live', 'drain']],
  ];
  console.log(
    `\nmedian readings/s (min-max) over the runs; the broker limit is the median of the null consumer's runs`,
  );
  console.log(`${''.padEnd(46)} ${'live'.padEnd(28)} drain`);
  for (const [key, modes] of table) {
    const cells = modes.map((mode) => {
      const { median: value, min, max } = rates(results, key, mode);
      return `${format(value)} (${format(min)}-${format(max)})`;
    });
    console.log(`${NAMES[key].padEnd(46)} ${cells[0].padEnd(28)} ${cells[1] ?? '-'}`);
  }
  const ratio = (key: ConsumerKey, to: ConsumerKey, mode: Mode) =>
    rates(results, key, mode).median / rates(results, to, mode).median;
  const lost = results
    .filter((result) => result.key === 'postgres')
    .reduce((sum, result) => sum + result.published - result.found, 0);
  const judge = (mode: Mode) => {
    const baseline = ratio('postgres', 'baseline', mode);
    const broker = ratio('postgres', 'null', mode);
    return (
      `${baseline.toFixed(1)}x baseline (target >= 10: ${baseline >= 10 ? 'met' : 'not met'}), ` +
      `${broker.toFixed(2)} of broker limit (target >= 0.6: ${broker >= 0.6 ? 'met' : 'not met'})`
    );
  };
  console.log(
    `ratios live:  processor/null  postgres ${ratio('postgres', 'null', 'live').toFixed(2)}, ` +
      `influxdb ${ratio('influxdb', 'null', 'live').toFixed(2)}; ` +
      `processor/baseline  postgres ${ratio('postgres', 'baseline', 'live').toFixed(1)}x, ` +
      `influxdb ${ratio('influxdb', 'baseline', 'live').toFixed(1)}x`,
  );
  // No consumer can outrun the null consumer, so this bounds the processor/baseline ratio.
  console.log(
    `ceiling: null consumer / baseline = ${ratio('null', 'baseline', 'live').toFixed(1)}x live, ` +
      `${ratio('null', 'baseline', 'drain').toFixed(1)}x drain (the most any consumer could reach here)`,
  );
  console.log(`targets, live (the issue's measurement): postgres ${judge('live')}`);
  console.log(`targets, drain (no publisher competing):  postgres ${judge('drain')}`);
  console.log(
    `lost (every PostgreSQL run, live and drain): ${lost} (target 0: ${lost === 0 ? 'met' : 'not met'})`,
  );
  const live = rates(results, 'postgres', 'live').median;
  console.log(
    `ingest postgres: ${Math.round(live)}/s, ` +
      `${ratio('postgres', 'baseline', 'live').toFixed(1)}x baseline, ` +
      `${ratio('postgres', 'null', 'live').toFixed(2)} of broker limit, ` +
      `lost ${lost}`,
  );
}

/** Child mode: run one consumer and report back over IPC. */
function consumerChild(): void {
  process.once('message', (job: ConsumerJob) => {
    const onReady = () => process.send?.({ type: 'ready' });
    const consumer =
      job.role === 'null-consumer'
        ? runNullConsumer(job, onReady)
        : runBaselineConsumer(job, onReady);
    consumer.then(
      (report) => process.send?.({ type: 'done', report }, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

if (process.argv.includes('--consumer')) {
  consumerChild();
} else {
  main().catch((error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
