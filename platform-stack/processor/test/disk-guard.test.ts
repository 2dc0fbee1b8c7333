import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskGuard, PAUSE_AT_PERCENT } from '../src/disk/disk-guard';
import type { DiskUsage } from '../src/disk/disk-usage';
import { Logger } from '../src/log/logger';
import { createTestVhost, openPublisher, queueDepth, type TestVhost } from './support/broker';
import { waitFor } from './support/wait';

const QUEUE = 'telemetry';

/**
 * The guard's pause and resume against a real broker. The disk reading is the boundary: a
 * stand-in whose figure the test sets (full-volume.test.ts fills a real tmpfs instead).
 */
describe('disk guard: pause and resume consuming on a real broker', () => {
  let vhost: TestVhost;
  let connection: ChannelModel;
  let channel: Channel;
  const acknowledged: string[] = [];
  let usage: DiskUsage = { usedPercent: 40, bytesFree: 600, bytesTotal: 1000 };
  let consumerTag: string | null = null;
  let guard: DiskGuard;

  const consume = async () => {
    ({ consumerTag } = await channel.consume(QUEUE, (message) => {
      if (!message) return;
      acknowledged.push(message.content.toString());
      channel.ack(message);
    }));
  };

  beforeAll(async () => {
    vhost = await createTestVhost();
    connection = await amqp.connect(vhost.amqpUrl);
    channel = await connection.createChannel();
    await channel.assertQueue(QUEUE, { durable: true });
    await consume();
    guard = new DiskGuard({
      read: async () => usage,
      pause: async () => {
        if (consumerTag) await channel.cancel(consumerTag);
        consumerTag = null;
      },
      resume: consume,
      logger: new Logger('error', { component: 'test' }),
    });
  });

  afterAll(async () => {
    await connection?.close();
    await vhost?.delete();
  });

  async function publish(prefix: string, count: number): Promise<void> {
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      for (let i = 0; i < count; i++)
        publisher.publishRaw('', QUEUE, Buffer.from(`${prefix}-${i}`));
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }
  }

  it('consumes below the mark, leaves readings in the queue at 95 %, and takes them all once space is freed', async () => {
    await guard.check();
    expect(guard.snapshot()).toMatchObject({ usedPercent: 40, pausedReason: null });
    await publish('before', 10);
    await waitFor('10 messages consumed', () => acknowledged.length === 10);

    usage = { usedPercent: PAUSE_AT_PERCENT, bytesFree: 50, bytesTotal: 1000 };
    await guard.check();
    expect(guard.paused).toBe(true);
    expect(guard.snapshot().pausedReason).toMatch(/data volume is 95 % full/);
    await publish('while-full', 25);
    await waitFor('25 messages waiting in the broker', async () =>
      (await queueDepth(vhost.amqpUrl, QUEUE)) === 25 ? true : undefined,
    );
    expect(acknowledged).toHaveLength(10);

    // Between the marks nothing changes: no flapping at the edge.
    usage = { usedPercent: 94, bytesFree: 60, bytesTotal: 1000 };
    await guard.check();
    expect(guard.paused).toBe(true);

    usage = { usedPercent: 70, bytesFree: 300, bytesTotal: 1000 };
    await guard.check();
    expect(guard.paused).toBe(false);
    await waitFor('all 35 messages consumed', () => acknowledged.length === 35);
    expect(acknowledged.filter((body) => body.startsWith('while-full'))).toHaveLength(25);
    expect(await queueDepth(vhost.amqpUrl, QUEUE)).toBe(0);
  });

  it('keeps its state when the volume cannot be read, and says why', async () => {
    const failing = new DiskGuard({
      read: () => Promise.reject(new Error('statfs failed: ENOENT')),
      pause: () => Promise.reject(new Error('must not pause')),
      resume: () => Promise.reject(new Error('must not resume')),
      logger: new Logger('error', { component: 'test' }),
    });
    await failing.check();
    expect(failing.paused).toBe(false);
    expect(failing.snapshot().readError).toMatch(/ENOENT/);
  });
});
