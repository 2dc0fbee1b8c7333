import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, openPublisher, queueDepth, type TestVhost } from './support/broker';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

const VOLUME_BYTES = 4 * 1024 * 1024;

interface DiskStatus {
  consuming: boolean;
  disk: { usedPercent: number | null; bytesFree: number | null; pausedReason: string | null };
}

/**
 * A real, size-limited filesystem (a 4 MiB tmpfs, mounted as root like the platform's volume
 * would be) stands in for the data volume: filling it pauses the processor, freeing it resumes.
 */
describe('a full data volume pauses ingest without loss', () => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;
  let volume: string;
  let mounted = false;

  beforeAll(async () => {
    volume = mkdtempSync(path.join(tmpdir(), 'fs-volume-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME_BYTES}`, 'tmpfs', volume]);
    mounted = true;
    vhost = await createTestVhost();
    store = await createReadingStore('postgres');
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      PROCESSOR_BATCH_SIZE: '10',
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      DATA_VOLUME_PATH: volume,
      ...store.processorEnv(),
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await vhost?.delete();
    if (mounted) execFileSync('umount', [volume]);
    if (volume) rmSync(volume, { recursive: true, force: true });
  });

  it('stops taking readings at 95 %, keeps them in the broker, and stores them all when space is freed', async () => {
    const before = await processor.get<DiskStatus>('/status');
    expect(before.disk.usedPercent).toBeLessThan(10);
    expect(before.disk.pausedReason).toBeNull();

    const filler = path.join(volume, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.floor(VOLUME_BYTES * 0.97)));
    const paused = await waitFor('the processor to pause', async () => {
      const status = await processor.get<DiskStatus>('/status');
      return status.disk.pausedReason !== null && status;
    });
    expect(paused.consuming).toBe(false);
    expect(paused.disk.usedPercent).toBeGreaterThanOrEqual(95);
    expect(paused.disk.pausedReason).toMatch(/readings wait in the broker/);
    expect(processor.logLines.join('\n')).toContain('paused consuming: data volume nearly full');

    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      for (let i = 0; i < 40; i++) {
        publisher.publishJson('amq.topic', `telemetry.room.sensor-${i}`, { data: { raw: i } });
      }
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }
    await waitFor('40 readings waiting in the queue', async () =>
      (await queueDepth(vhost.amqpUrl, 'telemetry')) === 40 ? true : undefined,
    );
    expect(await store.readings('room', 'raw')).toHaveLength(0);

    rmSync(filler);
    const rows = await waitFor('40 readings stored after space was freed', async () => {
      const found = await store.readings('room', 'raw');
      return found.length === 40 && found;
    });
    expect(new Set(rows.map((row) => row.device)).size).toBe(40);
    const resumed = await processor.get<DiskStatus>('/status');
    expect(resumed.consuming).toBe(true);
    expect(resumed.disk.pausedReason).toBeNull();
  });
});
