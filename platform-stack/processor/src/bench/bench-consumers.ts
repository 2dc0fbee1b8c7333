import amqp from 'amqplib';
import { Client } from 'pg';
import { LatencyHistogram } from '../status/latency-histogram';

/** What a consumer child process reports to the benchmark when it has seen every message. */
export interface ConsumerReport {
  consumed: number;
  finishedAt: number;
  p50: number | null;
  p99: number | null;
}

export interface ConsumerJob {
  role: 'null-consumer' | 'baseline-consumer';
  amqpUrl: string;
  queue: string;
  expected: number;
  postgresUrl?: string;
}

/**
 * The broker's limit on this machine: takes every message and acknowledges it, nothing else
 * (acknowledgements grouped per 500 messages, as an efficient consumer would).
 */
export async function runNullConsumer(
  job: ConsumerJob,
  onReady: () => void,
): Promise<ConsumerReport> {
  const connection = await amqp.connect(job.amqpUrl);
  const channel = await connection.createChannel();
  await channel.prefetch(2000);
  const latency = new LatencyHistogram();
  let consumed = 0;
  return new Promise((resolve) => {
    void channel
      .consume(job.queue, (message) => {
        if (!message) return;
        consumed++;
        latency.record(Date.now() - (JSON.parse(message.content.toString()) as { ts: number }).ts);
        if (consumed % 500 === 0 || consumed === job.expected) channel.ack(message, true);
        if (consumed === job.expected) {
          const report = {
            consumed,
            finishedAt: Date.now(),
            p50: latency.percentile(50),
            p99: latency.percentile(99),
          };
          void connection.close().then(() => resolve(report));
        }
      })
      .then(onReady);
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
  await channel.prefetch(100);
  const latency = new LatencyHistogram();
  let consumed = 0;
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
            const report = {
              consumed,
              finishedAt: Date.now(),
              p50: latency.percentile(50),
              p99: latency.percentile(99),
            };
            await connection.close();
            await database.end();
            resolve(report);
          }
        });
      })
      .then(onReady);
  });
}
