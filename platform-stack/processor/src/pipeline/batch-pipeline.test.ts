import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../contract/reading';
import { Logger } from '../log/logger';
import { ProcessorMetrics } from '../status/processor-metrics';
import type { ReadingWriter } from '../writers/reading-writer';
import { BatchPipeline } from './batch-pipeline';
import type { DeadLetter, DeadLetterPublisher } from './dead-letter-publisher';

/** A writer whose writes complete only when the test says so. */
class GatedWriter implements ReadingWriter {
  readonly kind = 'gated';
  readonly batches: Reading[][] = [];
  private readonly gates: (() => void)[] = [];

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  write(readings: Reading[]): Promise<void> {
    this.batches.push(readings);
    return new Promise((resolve) => this.gates.push(resolve));
  }

  /** Confirms the oldest write still waiting. */
  confirmNext(): void {
    this.gates.shift()?.();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function message(
  tag: number,
  body: Record<string, unknown> = { device: 'pi1' },
  {
    exchange = 'amq.topic',
    routingKey = 'telemetry.room.pi1',
    userId,
  }: { exchange?: string; routingKey?: string; userId?: string } = {},
): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify({ ...body, ts: 1_700_000_000_000 + tag, data: { tag } })),
    fields: { deliveryTag: tag, redelivered: false, exchange, routingKey, consumerTag: 'test' },
    properties: { headers: {}, userId },
  } as unknown as ConsumeMessage;
}

function pipelineWith(writer: ReadingWriter, batchSize: number, batchMaxWaitMs: number) {
  const acks: { tag: number; allUpTo: boolean | undefined }[] = [];
  const channel = {
    ack: (acked: ConsumeMessage, allUpTo?: boolean) =>
      acks.push({ tag: acked.fields.deliveryTag, allUpTo }),
  } as unknown as Channel;
  const letters: DeadLetter[] = [];
  const deadLetters = {
    publish: (published: DeadLetter[]) => {
      letters.push(...published);
      return Promise.resolve();
    },
  } as unknown as DeadLetterPublisher;
  const metrics = new ProcessorMetrics();
  const pipeline = new BatchPipeline({
    consumeChannel: channel,
    deadLetters,
    writer,
    metrics,
    logger: new Logger('error'),
    batchSize,
    batchMaxWaitMs,
    onFatal: (error) => {
      throw error;
    },
  });
  return { pipeline, acks, letters, metrics };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchPipeline', () => {
  it('acknowledges a batch only after the database confirmed it, "up to" its last message', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks } = pipelineWith(writer, 1000, 5);
    pipeline.accept(message(1));
    pipeline.accept(message(2));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the batch timer fires
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([2]);
    expect(acks).toEqual([]);
    writer.confirmNext();
    await pipeline.drain();
    expect(acks).toEqual([{ tag: 2, allUpTo: true }]);
  });

  it('counts each device’s readings once the database confirmed them', async () => {
    const writer = new GatedWriter();
    const { pipeline, metrics } = pipelineWith(writer, 3, 60_000);
    pipeline.accept(message(1));
    pipeline.accept(message(2));
    pipeline.accept(message(3, { device: 'pi2' }, { routingKey: 'telemetry.room.pi2' }));
    await settle();
    expect(metrics.devices.snapshot()).toEqual({});
    writer.confirmNext();
    await pipeline.drain();
    const figures = metrics.devices.snapshot();
    expect(Object.keys(figures).sort()).toEqual(['pi1', 'pi2']);
    expect(figures.pi1!.readingsLastHour).toBe(2);
    expect(figures.pi2!.readingsLastHour).toBe(1);
  });

  it('flushes full batches at once and writes and acknowledges them one at a time, in order', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks } = pipelineWith(writer, 3, 60_000);
    for (let tag = 1; tag <= 10; tag++) pipeline.accept(message(tag));
    await settle();
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([3]); // the next waits for this one
    for (let i = 0; i < 3; i++) {
      writer.confirmNext();
      await settle();
      await settle();
      expect(acks.length).toBe(i + 1);
    }
    const drained = pipeline.drain(); // flushes the last, partial batch
    await settle();
    await settle();
    writer.confirmNext();
    await drained;
    expect(writer.batches.map((batch) => batch.length)).toEqual([3, 3, 3, 1]);
    expect(acks.map((ack) => ack.tag)).toEqual([3, 6, 9, 10]);
  });

  it('stores a reading under the device of its routing key (or fanout user_id) and dead-letters one whose body names another', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks, letters } = pipelineWith(writer, 3, 60_000);
    pipeline.accept(message(1, {}));
    pipeline.accept(message(2, { device: 'pi2' }));
    pipeline.accept(
      message(
        3,
        { measurement: 'room', sensor: 'myt' },
        { exchange: 'data', routingKey: '', userId: 'myt' },
      ),
    );
    await settle();
    await settle();
    writer.confirmNext();
    await pipeline.drain();
    expect(writer.batches.flat().map((reading) => reading.device)).toEqual(['pi1', 'myt']);
    expect(
      letters.map(({ message: letter, stage, reason }) => [
        letter.fields.deliveryTag,
        stage,
        reason,
      ]),
    ).toEqual([
      [
        2,
        'parse',
        '"device" in the body ("pi2") is not the device that published it ("pi1", from the routing key)',
      ],
    ]);
    expect(acks).toEqual([{ tag: 3, allUpTo: true }]);
  });
});
