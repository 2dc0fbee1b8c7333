import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

const DEAD_LETTER_QUEUE = 'telemetry.dead-letter';

function userScript(divisor: number): string {
  return `export default function process(reading, ctx) {
  if (reading.device === 'throws') throw new Error('sensor exploded');
  if (reading.device === 'loops') { for (;;) {} }
  return { ...reading, data: { celsius: reading.data.raw / ${divisor}, divisor: ${divisor} } };
}
`;
}

describe('dead letters and the user script', () => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;
  let scriptDir: string;
  let scriptPath: string;

  beforeAll(async () => {
    vhost = await createTestVhost();
    store = await createReadingStore('postgres');
    scriptDir = mkdtempSync(path.join(tmpdir(), 'fs-script-'));
    scriptPath = path.join(scriptDir, 'process.mjs');
    writeFileSync(scriptPath, userScript(10));
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      SCRIPT_PATH: scriptPath,
      SCRIPT_TIMEOUT_MS: '300',
      PROCESSOR_BATCH_SIZE: '10',
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      ...store.processorEnv(),
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await vhost?.delete();
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  });

  it('dead-letters a throwing script, a looping script and a non-JSON message, with reasons, while the rest flows', async () => {
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      for (let i = 0; i < 30; i++) {
        publisher.publishJson('amq.topic', `telemetry.room.good-${i}`, { data: { raw: 200 + i } });
        if (i === 5)
          publisher.publishJson('amq.topic', 'telemetry.room.throws', { data: { raw: 1 } });
        if (i === 12)
          publisher.publishJson('amq.topic', 'telemetry.room.loops', { data: { raw: 1 } });
        if (i === 20)
          publisher.publishRaw('amq.topic', 'telemetry.room.garbled', Buffer.from('{"data": nope'));
      }
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }

    const rows = await waitFor('30 good readings', async () => {
      const found = await store.readings('room', 'celsius');
      return found.length >= 30 && found;
    });
    expect(rows).toHaveLength(30);
    expect(rows.find((row) => row.device === 'good-0')?.value).toBe(20);

    await waitFor(
      'three dead letters',
      async () => (await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)) >= 3,
    );
    const letters = await drainQueue(vhost.amqpUrl, DEAD_LETTER_QUEUE);
    const reasons = Object.fromEntries(
      letters.map((letter) => [
        letter.properties.headers?.['x-original-routing-key'],
        {
          stage: letter.properties.headers?.['x-fieldstation-stage'],
          reason: String(letter.properties.headers?.['x-fieldstation-reason']),
        },
      ]),
    );
    expect(reasons['telemetry.room.throws']).toEqual({
      stage: 'script',
      reason: 'script failed: sensor exploded',
    });
    expect(reasons['telemetry.room.loops']).toEqual({
      stage: 'script',
      reason: 'script did not finish within 300 ms',
    });
    expect(reasons['telemetry.room.garbled']).toEqual({
      stage: 'parse',
      reason: 'message is not valid JSON',
    });
    expect(
      letters.find((letter) => letter.fields.routingKey === DEAD_LETTER_QUEUE)?.content.toString(),
    ).toBeDefined();
    expect(await queueDepth(vhost.amqpUrl, 'telemetry')).toBe(0);
  });

  it('reloads the script when its file changes, without a restart', async () => {
    writeFileSync(scriptPath, userScript(100));
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      let sent = 0;
      await waitFor(
        'a reading processed by the new script',
        async () => {
          publisher.publishJson('amq.topic', `telemetry.reload.probe-${sent++}`, {
            data: { raw: 500 },
          });
          await publisher.confirmed();
          const rows = await store.readings('reload', 'celsius');
          return rows.some((row) => row.value === 5);
        },
        { intervalMs: 250 },
      );
    } finally {
      await publisher.close();
    }
    const status = await processor.status();
    expect(status.script?.reloadError).toBeUndefined();
  });
});
