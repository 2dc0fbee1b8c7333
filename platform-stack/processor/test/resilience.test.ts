import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, openPublisher, queueDepth, type TestVhost } from './support/broker';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';

let vhost: TestVhost;
const processors: ProcessorProcess[] = [];
const stores: ReadingStore[] = [];

beforeAll(async () => {
  vhost = await createTestVhost();
});

afterEach(async () => {
  await Promise.all(processors.splice(0).map((processor) => processor.stop()));
  await Promise.all(stores.splice(0).map((store) => store.drop()));
});

afterAll(async () => {
  await vhost?.delete();
});

async function startProcessor(env: Record<string, string>): Promise<ProcessorProcess> {
  const processor = await ProcessorProcess.start({ AMQP_URL: vhost.amqpUrl, ...env });
  processors.push(processor);
  return processor;
}

async function newStore(kind: 'postgres' | 'influxdb'): Promise<ReadingStore> {
  const store = await createReadingStore(kind);
  stores.push(store);
  return store;
}

/** Distinct `seq` values stored for one measurement (duplicates are allowed: delivery is at-least-once). */
async function distinctSequences(store: ReadingStore, measurement: string): Promise<number> {
  return new Set((await store.readings(measurement, 'seq')).map((row) => row.value)).size;
}

describe('processor resilience', () => {
  it('loses no broker-confirmed reading when killed with SIGKILL mid-stream', async () => {
    const store = await newStore('postgres');
    const env = {
      PROCESSOR_BATCH_SIZE: '100',
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      ...store.processorEnv(),
    };
    const first = await startProcessor(env);
    const total = 6000;
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      let killed = false;
      for (let seq = 0; seq < total; seq++) {
        publisher.publishJson('amq.topic', `telemetry.crash.dev-${seq % 7}`, { data: { seq } });
        if (seq % 250 === 249) {
          await publisher.confirmed();
          if (!killed && (await first.status()).readingsOut > 1000) {
            await first.kill();
            killed = true;
          }
        }
      }
      await publisher.confirmed();
      expect(killed).toBe(true);
    } finally {
      await publisher.close();
    }

    await startProcessor(env);
    await waitFor(
      'every published reading in PostgreSQL',
      async () => (await distinctSequences(store, 'crash')) === total,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    expect(await queueDepth(vhost.amqpUrl, 'telemetry.dead-letter')).toBe(0);
  });

  it.each(['postgres', 'influxdb'] as const)(
    'waits and retries while %s is unreachable, then stores everything without dead-lettering',
    async (kind) => {
      const store = await newStore(kind);
      const target = new URL(
        store.processorEnv()[kind === 'postgres' ? 'POSTGRES_URL' : 'INFLUX_URL'],
      );
      const proxy = new TcpProxy(target.hostname, Number(target.port));
      await proxy.start();
      try {
        const processor = await startProcessor({
          PROCESSOR_BATCH_MAX_WAIT_MS: '20',
          ...store.processorEnv({ port: proxy.port }),
        });
        const measurement = `outage_${kind}`;
        const publish = async (from: number, to: number) => {
          const publisher = await openPublisher(vhost.amqpUrl);
          try {
            for (let seq = from; seq < to; seq++) {
              // Distinct device timestamps: InfluxDB keeps one point per series and timestamp.
              publisher.publishJson('amq.topic', `telemetry.${measurement}.dev-${seq % 3}`, {
                ts: 1_700_000_000_000 + seq,
                data: { seq },
              });
            }
            await publisher.confirmed();
          } finally {
            await publisher.close();
          }
        };

        await publish(0, 100);
        await waitFor(
          'the first 100 readings',
          async () => (await distinctSequences(store, measurement)) === 100,
        );

        await proxy.cut();
        await publish(100, 300);
        const during = await waitFor('the processor to retry several times', async () => {
          const status = await processor.status();
          return status.writeRetries >= 3 && status;
        });
        expect(during.messagesFailed).toBe(0);
        expect(during.databaseReady).toBe(false);
        expect(await distinctSequences(store, measurement)).toBe(100);

        await proxy.start();
        await waitFor(
          'all 300 readings after the database is back',
          async () => (await distinctSequences(store, measurement)) === 300,
        );
        const after = await processor.status();
        expect(after.messagesFailed).toBe(0);
        expect(after.databaseReady).toBe(true);
        expect(await queueDepth(vhost.amqpUrl, 'telemetry.dead-letter')).toBe(0);
      } finally {
        await proxy.cut();
      }
    },
  );
});
