import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestVhost,
  drainQueue,
  openPublisher,
  queueDepth,
  type TestVhost,
} from './support/broker';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

/**
 * Data the database itself refuses (not an outage) must not block the queue: the batch is halved
 * until the offending message is found, which is dead-lettered; its neighbours are stored.
 */
describe.each([
  // PostgreSQL's jsonb cannot hold a NUL character (SQLSTATE 22P05).
  { kind: 'postgres' as const, poison: { value: 1, note: 'nul\u0000byte' } },
  // InfluxDB refuses a string for a field that already holds floats (field type conflict).
  { kind: 'influxdb' as const, poison: { value: 'not a number' } },
])('rows rejected by $kind', ({ kind, poison }) => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;

  beforeAll(async () => {
    vhost = await createTestVhost();
    store = await createReadingStore(kind);
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      PROCESSOR_BATCH_MAX_WAIT_MS: '200',
      ...store.processorEnv(),
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await vhost?.delete();
  });

  it('dead-letters only the rejected message', async () => {
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      // A first reading fixes the field's type for InfluxDB.
      publisher.publishJson('amq.topic', 'telemetry.reject.first', {
        ts: 1_700_000_000_000,
        data: { value: 0 },
      });
      await publisher.confirmed();
      await waitFor(
        'the first reading',
        async () => (await store.readings('reject', 'value')).length === 1,
      );
      for (let i = 1; i <= 40; i++) {
        publisher.publishJson('amq.topic', `telemetry.reject.dev-${i}`, {
          ts: 1_700_000_000_000 + i,
          data: { value: i },
        });
        if (i === 17)
          publisher.publishJson('amq.topic', 'telemetry.reject.poison', {
            ts: 1_700_000_000_000,
            data: poison,
          });
      }
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }

    await waitFor(
      '41 good readings',
      async () => (await store.readings('reject', 'value')).length === 41,
    );
    await waitFor(
      'the dead letter',
      async () => (await queueDepth(vhost.amqpUrl, 'telemetry.dead-letter')) === 1,
    );
    const [letter] = await drainQueue(vhost.amqpUrl, 'telemetry.dead-letter');
    expect(letter.properties.headers?.['x-original-routing-key']).toBe('telemetry.reject.poison');
    expect(letter.properties.headers?.['x-fieldstation-stage']).toBe('database');
    expect(String(letter.properties.headers?.['x-fieldstation-reason'])).toMatch(
      kind === 'postgres'
        ? /PostgreSQL rejected the rows \(22P05\)/
        : /InfluxDB rejected the points: .*field type conflict/,
    );
    expect((await store.readings('reject', 'value')).map((row) => row.device)).not.toContain(
      'poison',
    );
  });
});
