/**
 * `npm run bench:ingest [-- --quick | --count N]`: how fast readings go from AMQP publishers into
 * the database on this machine, compared with the broker's own limit and a MyT-style consumer.
 * Uses the test services (scripts/services/*.sh; started here when their variables are unset),
 * a private vhost and fresh databases per scenario, and removes them afterwards.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { Client } from 'pg';
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

interface ScenarioResult {
  name: string;
  readingsPerSecond: number;
  p50: number | null;
  p99: number | null;
  found: number;
  published: number;
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

/**
 * Publishes `count` readings with publisher confirms, keeping up to PUBLISH_WINDOW unconfirmed
 * (a confirm frees a slot, so publishing never stops to wait for a whole window).
 */
async function publishReadings(amqpUrl: string, count: number): Promise<number> {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createConfirmChannel();
  const lastTs = new Float64Array(DEVICES);
  let unconfirmed = 0;
  let slotFreed: (() => void) | undefined;
  let failure: unknown;
  const startedAt = Date.now();
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
  if (failure) throw failure;
  await connection.close();
  return startedAt;
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

async function consumerScenario(
  name: string,
  job: Omit<ConsumerJob, 'queue'>,
  count: (published: number) => Promise<number>,
): Promise<ScenarioResult> {
  await declareQueue(job.amqpUrl);
  const { report } = await runConsumerProcess({ ...job, queue: QUEUE });
  const startedAt = await publishReadings(job.amqpUrl, job.expected);
  const done = await report;
  return {
    name,
    readingsPerSecond: job.expected / ((done.finishedAt - startedAt) / 1000),
    p50: done.p50,
    p99: done.p99,
    found: await count(done.consumed),
    published: job.expected,
  };
}

interface ProcessorStatus {
  consuming: boolean;
  readingsOut: number;
  messagesFailed: number;
  endToEndLatencyMs: { p50: number | null; p99: number | null };
}

async function processorScenario(
  name: string,
  amqpUrl: string,
  databaseEnv: Record<string, string>,
  expected: number,
  count: () => Promise<number>,
): Promise<ScenarioResult> {
  const child = spawn(process.execPath, [PROCESSOR_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      AMQP_URL: amqpUrl,
      ...(process.argv.includes('--no-script') ? {} : { SCRIPT_PATH: SCRIPT_TEMPLATE }),
      // Tuning knobs pass through, e.g. PROCESSOR_BATCH_SIZE=2000 npm run bench:ingest.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([key]) => key.startsWith('PROCESSOR_')),
      ),
      STATUS_HOST: '127.0.0.1',
      STATUS_PORT: '0',
      ...databaseEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The processor logs the status port it bound (port 0 = any free port).
  let statusPort = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    const match = /"port":(\d+)/.exec(chunk.toString());
    if (match) statusPort = Number(match[1]);
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
    await until(async () => (await status())?.consuming === true, 30_000, 'the processor to start');
    const startedAt = await publishReadings(amqpUrl, expected);
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
    return {
      name,
      readingsPerSecond: expected / ((finishedAt - startedAt) / 1000),
      p50: last?.endToEndLatencyMs.p50 ?? null,
      p99: last?.endToEndLatencyMs.p99 ?? null,
      found: await count(),
      published: expected,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
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

function parseCount(argv: string[]): number {
  if (argv.includes('--quick')) return 20_000;
  const index = argv.indexOf('--count');
  if (index >= 0) {
    const value = Number(argv[index + 1]);
    if (!Number.isInteger(value) || value < 1000)
      throw new Error('--count needs an integer of at least 1000');
    return value;
  }
  return 200_000;
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number | null) => (value === null ? 'n/a' : `${value} ms`);

async function main(): Promise<void> {
  const count = parseCount(process.argv.slice(2));
  const env = serviceEnvironment();
  console.log(
    `ingest benchmark: ${format(count)} readings per scenario, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(
    'publisher: one AMQP connection, persistent messages, publisher confirms (up to 2000 unconfirmed), 1000 devices',
  );

  const results: ScenarioResult[] = [];
  const run = async (label: string, scenario: (vhost: BenchVhost) => Promise<ScenarioResult>) => {
    const vhost = await BenchVhost.create(
      env.FS_TEST_AMQP_URL,
      env.FS_TEST_RABBITMQ_API_URL,
      label,
    );
    try {
      const result = await scenario(vhost);
      results.push(result);
      console.log(
        `${result.name.padEnd(44)} ${format(result.readingsPerSecond).padStart(8)} readings/s   ` +
          `e2e p50 ${ms(result.p50)}, p99 ${ms(result.p99)}   found ${result.found} of ${result.published}`,
      );
    } finally {
      await vhost.delete();
    }
  };

  await run('null', (vhost) =>
    consumerScenario(
      '1. null consumer (ack only, broker limit)',
      { role: 'null-consumer', amqpUrl: vhost.amqpUrl, expected: count },
      async (consumed) => consumed,
    ),
  );
  await run('pg', (vhost) =>
    withPostgresDatabase(env.FS_TEST_POSTGRES_URL, 'processor', (url) =>
      processorScenario(
        '2a. processor -> PostgreSQL',
        vhost.amqpUrl,
        { DATABASE_KIND: 'postgres', POSTGRES_URL: url },
        count,
        () => countPostgresReadings(url),
      ),
    ),
  );
  await run('influx', async (vhost) => {
    const database = `fs_bench_${process.pid}`;
    try {
      return await processorScenario(
        '2b. processor -> InfluxDB',
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
  });
  await run('baseline', (vhost) =>
    withPostgresDatabase(env.FS_TEST_POSTGRES_URL, 'baseline', async (url) => {
      const writer = new PostgresReadingWriter(url);
      await writer.prepare();
      await writer.close();
      return consumerScenario(
        '3. MyT-style baseline (insert+commit per msg)',
        { role: 'baseline-consumer', amqpUrl: vhost.amqpUrl, expected: count, postgresUrl: url },
        () => countPostgresReadings(url),
      );
    }),
  );

  await run('null2', (vhost) =>
    consumerScenario(
      '1b. null consumer again (machine load varies)',
      { role: 'null-consumer', amqpUrl: vhost.amqpUrl, expected: count },
      async (consumed) => consumed,
    ),
  );
  const [firstNull, postgres, influx, baseline, secondNull] = results;
  // The better of the two null runs, so a busy moment during one of them cannot flatter the processor.
  const nullConsumer =
    firstNull.readingsPerSecond >= secondNull.readingsPerSecond ? firstNull : secondNull;
  console.log(
    `ratios: processor/null  postgres ${(postgres.readingsPerSecond / nullConsumer.readingsPerSecond).toFixed(2)}, ` +
      `influxdb ${(influx.readingsPerSecond / nullConsumer.readingsPerSecond).toFixed(2)}; ` +
      `processor/baseline  postgres ${(postgres.readingsPerSecond / baseline.readingsPerSecond).toFixed(1)}x, ` +
      `influxdb ${(influx.readingsPerSecond / baseline.readingsPerSecond).toFixed(1)}x`,
  );
  console.log(
    `ingest postgres: ${Math.round(postgres.readingsPerSecond)}/s, ` +
      `${(postgres.readingsPerSecond / baseline.readingsPerSecond).toFixed(1)}x baseline, ` +
      `${(postgres.readingsPerSecond / nullConsumer.readingsPerSecond).toFixed(2)} of broker limit, ` +
      `lost ${postgres.published - postgres.found}`,
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
