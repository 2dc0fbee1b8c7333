import amqp from 'amqplib';
import { Client } from 'pg';
import { LatencyHistogram } from '../status/latency-histogram';

/** What a consumer child process reports to the benchmark when it has seen every message. */
export interface ConsumerReport {
  consumed: number;
  /** When the broker confirmed the subscription (basic.consume-ok). */
  startedAt: number;
  finishedAt: number;
  /** CPU time of the consumer process (user + system). */
  cpuMicros: number;
  p50: number | null;
  p99: number | null;
}

export interface ConsumerJob {
  role: 'null-consumer' | 'baseline-consumer';
  amqpUrl: string;
  queue: string;
  expected: number;
  prefetch: number;
  postgresUrl?: string;
}

/** CPU is counted from the subscription on, like the broker's and the processor's. */
function report(
  consumed: number,
  startedAt: number,
  cpuAtStart: NodeJS.CpuUsage,
  latency: LatencyHistogram,
): ConsumerReport {
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    consumed,
    startedAt,
    finishedAt: Date.now(),
    cpuMicros: cpu.user + cpu.system,
    p50: latency.percentile(50),
    p99: latency.percentile(99),
  };
}

/**
 * The broker's limit on this machine: takes every message and acknowledges it, nothing else, with
 * the processor's prefetch. Acknowledgements are grouped ("everything up to this one") per quarter
 * of the prefetch, at most 500 messages, as an efficient consumer would.
 */
export async function runNullConsumer(
  job: ConsumerJob,
  onReady: () => void,
): Promise<ConsumerReport> {
  const connection = await amqp.connect(job.amqpUrl);
  const channel = await connection.createChannel();
  await channel.prefetch(job.prefetch);
  const ackEvery = Math.max(1, Math.min(500, Math.floor(job.prefetch / 4)));
  const latency = new LatencyHistogram();
  let consumed = 0;
  let startedAt = Date.now();
  let cpuAtStart = process.cpuUsage();
  return new Promise((resolve) => {
    void channel
      .consume(job.queue, (message) => {
        if (!message) return;
        consumed++;
        latency.record(Date.now() - (JSON.parse(message.content.toString()) as { ts: number }).ts);
        if (consumed % ackEvery === 0 || consumed === job.expected) channel.ack(message, true);
        if (consumed === job.expected) {
          const done = report(consumed, startedAt, cpuAtStart, latency);
          void connection.close().then(() => resolve(done));
        }
      })
      .then(() => {
        startedAt = Date.now();
        cpuAtStart = process.cpuUsage();
        onReady();
      });
  });
}

/**
 * MyT's processor, rebuilt for comparison: every message is one INSERT committed on its own
 * (autocommit), then acknowledged; no batching. Same table and database as the processor's.
 */
export async function runBaselineConsumer(
  job: ConsumerJob,
  onReady: () => void,
): Promise<ConsumerReport> {
  const database = new Client({ connectionString: job.postgresUrl });
  await database.connect();
  const connection = await amqp.connect(job.amqpUrl);
  const channel = await connection.createChannel();
  await channel.prefetch(job.prefetch);
  const latency = new LatencyHistogram();
  let consumed = 0;
  let startedAt = Date.now();
  let cpuAtStart = process.cpuUsage();
  let chain = Promise.resolve();
  return new Promise((resolve) => {
    void channel
      .consume(job.queue, (message) => {
        if (!message) return;
        chain = chain.then(async () => {
          const body = JSON.parse(message.content.toString()) as {
            measurement: string;
            device: string;
            ts: number;
            data: Record<string, unknown>;
          };
          await database.query(
            'INSERT INTO readings (time, measurement, device, data) VALUES ($1, $2, $3, $4)',
            [new Date(body.ts), body.measurement, body.device, JSON.stringify(body.data)],
          );
          channel.ack(message);
          consumed++;
          latency.record(Date.now() - body.ts);
          if (consumed === job.expected) {
            const done = report(consumed, startedAt, cpuAtStart, latency);
            await connection.close();
            await database.end();
            resolve(done);
          }
        });
      })
      .then(() => {
        startedAt = Date.now();
        cpuAtStart = process.cpuUsage();
        onReady();
      });
  });
}
