import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../contract/reading';
import { Logger } from '../log/logger';
import { ProcessorMetrics } from '../status/processor-metrics';
import type { ReadingWriter } from '../writers/reading-writer';
import { BatchPipeline } from './batch-pipeline';
import type { DeadLetterPublisher } from './dead-letter-publisher';

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

function message(tag: number): ConsumeMessage {
  return {
    content: Buffer.from(
      JSON.stringify({ device: 'pi1', ts: 1_700_000_000_000 + tag, data: { tag } }),
    ),
    fields: {
      deliveryTag: tag,
      redelivered: false,
      exchange: 'amq.topic',
      routingKey: 'telemetry.room.pi1',
      consumerTag: 'test',
    },
    properties: { headers: {} },
  } as unknown as ConsumeMessage;
}

function pipelineWith(writer: ReadingWriter, batchSize: number) {
  const acks: { tag: number; allUpTo: boolean | undefined }[] = [];
  const channel = {
    ack: (acked: ConsumeMessage, allUpTo?: boolean) =>
      acks.push({ tag: acked.fields.deliveryTag, allUpTo }),
  } as unknown as Channel;
  const deadLetters = { publish: () => Promise.resolve() } as unknown as DeadLetterPublisher;
  const pipeline = new BatchPipeline({
    consumeChannel: channel,
    deadLetters,
    writer,
    metrics: new ProcessorMetrics(),
    logger: new Logger('error'),
    batchSize,
    batchMaxWaitMs: 60_000,
    onFatal: (error) => {
      throw error;
    },
  });
  return { pipeline, acks };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchPipeline batching', () => {
  it('writes at once when the pipeline is idle, without waiting for the batch timer', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks } = pipelineWith(writer, 1000);
    pipeline.accept(message(1));
    pipeline.accept(message(2));
    await settle();
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([2]);
    expect(acks).toEqual([]); // not before the database confirmed
    writer.confirmNext();
    await pipeline.drain();
    expect(acks).toEqual([{ tag: 2, allUpTo: true }]);
  });

  it('collects while the stages are busy and acknowledges batch after batch, in order', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks } = pipelineWith(writer, 1000);
    let tag = 0;
    pipeline.accept(message(++tag)); // batch 1: being written
    await settle();
    await settle();
    pipeline.accept(message(++tag)); // batch 2: flushed into the script stage, waits for batch 1
    await settle();
    for (let i = 0; i < 5; i++) pipeline.accept(message(++tag)); // both stages busy: these collect
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([1]);

    writer.confirmNext();
    await settle();
    await settle();
    expect(acks).toEqual([{ tag: 1, allUpTo: true }]);
    expect(writer.batches.map((batch) => batch.length)).toEqual([1, 1]);
    writer.confirmNext();
    await settle();
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([1, 1, 5]);
    writer.confirmNext();
    await pipeline.drain();
    expect(acks.map((ack) => ack.tag)).toEqual([1, 2, 7]);
  });

  it('still flushes a full batch at once while the stages are busy', async () => {
    const writer = new GatedWriter();
    const { pipeline, acks } = pipelineWith(writer, 3);
    for (let tag = 1; tag <= 10; tag++) pipeline.accept(message(tag));
    await settle();
    await settle();
    expect(writer.batches.map((batch) => batch.length)).toEqual([3]);
    for (let i = 0; i < 4; i++) {
      writer.confirmNext();
      await settle();
      await settle();
    }
    await pipeline.drain();
    expect(writer.batches.map((batch) => batch.length)).toEqual([3, 3, 3, 1]);
    expect(acks.map((ack) => ack.tag)).toEqual([3, 6, 9, 10]);
  });
});
