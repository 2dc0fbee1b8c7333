import type { Channel, ConsumeMessage } from 'amqplib';
import {
  InvalidMessageError,
  messageSource,
  parseTelemetryMessage,
  type Reading,
} from '../contract/reading';
import { Logger, describeError } from '../log/logger';
import type { ScriptSandbox } from '../script/script-sandbox';
import type { ProcessorMetrics } from '../status/processor-metrics';
import { RejectedByDatabaseError, type ReadingWriter } from '../writers/reading-writer';
import type { DeadLetter, DeadLetterPublisher } from './dead-letter-publisher';
import { DEFAULT_BACKOFF, retryUntilSuccess, type BackoffOptions } from './retry';

export interface BatchPipelineOptions {
  consumeChannel: Channel;
  deadLetters: DeadLetterPublisher;
  writer: ReadingWriter;
  sandbox?: ScriptSandbox;
  metrics: ProcessorMetrics;
  logger: Logger;
  batchSize: number;
  batchMaxWaitMs: number;
  backoff?: BackoffOptions;
  /** An error the pipeline cannot recover from (e.g. the broker channel closed): the process should exit. */
  onFatal: (error: unknown) => void;
}

interface Delivery {
  message: ConsumeMessage;
  receivedAt: number;
}

interface PreparedBatch {
  batch: Delivery[];
  rows: OwnedReading[];
  letters: DeadLetter[];
  startedAt: number;
  scriptMs: number;
}

/** A row to write and the delivery it came from (a script may turn one message into several rows). */
interface OwnedReading {
  owner: number;
  reading: Reading;
}

/**
 * Collects deliveries into batches (flushed at `batchSize` or after `batchMaxWaitMs`), runs the
 * user's script, writes each batch in one database call, dead-letters what cannot be stored, and
 * acknowledges the batch only after the database and the dead-letter queue confirmed it. Batches
 * are stored one at a time in delivery order, so acknowledging "everything up to the batch's last
 * delivery tag" never covers a message that is not done.
 */
export class BatchPipeline {
  private current: Delivery[] = [];
  private timer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private scriptStage: Promise<void> = Promise.resolve();
  private lastRetryLogAt = 0;

  constructor(private readonly options: BatchPipelineOptions) {}

  accept(message: ConsumeMessage): void {
    this.options.metrics.messagesIn++;
    this.current.push({ message, receivedAt: Date.now() });
    if (this.current.length >= this.options.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.batchMaxWaitMs);
  }

  /** Flushes what is collected and resolves when every batch so far is done. */
  async drain(): Promise<void> {
    this.flush();
    await this.queue;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current.length === 0) return;
    const batch = this.current;
    this.current = [];
    // Two stages, each in delivery order: the script runs on the next batch while this one is
    // written, and acknowledgements still go out strictly batch after batch.
    const prepared = this.scriptStage.then(() => this.prepare(batch));
    this.scriptStage = prepared.then(
      () => undefined,
      () => undefined,
    );
    this.queue = this.queue
      .then(() => prepared)
      .then((preparedBatch) => this.store(preparedBatch))
      .catch((error: unknown) => this.options.onFatal(error));
  }

  /** Parses the batch and runs the user's script over it. */
  private async prepare(batch: Delivery[]): Promise<PreparedBatch> {
    const startedAt = Date.now();
    const letters: DeadLetter[] = [];
    const parsed: OwnedReading[] = [];
    batch.forEach(({ message, receivedAt }, owner) => {
      try {
        parsed.push({
          owner,
          reading: parseTelemetryMessage(message.content, messageSource(message), receivedAt),
        });
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) throw error;
        letters.push({ message, stage: 'parse', reason: error.message });
      }
    });
    const rows = await this.runScript(parsed, batch, letters);
    return { batch, rows, letters, startedAt, scriptMs: Date.now() - startedAt };
  }

  /** Writes, dead-letters and acknowledges one prepared batch. */
  private async store({ batch, rows, letters, startedAt, scriptMs }: PreparedBatch): Promise<void> {
    const { metrics, deadLetters, consumeChannel } = this.options;
    const writeStartedAt = Date.now();
    const rejected = await this.writeWithRetry(rows);
    const writeMs = Date.now() - writeStartedAt;
    for (const [owner, reason] of rejected) {
      letters.push({ message: batch[owner].message, stage: 'database', reason });
    }
    await deadLetters.publish(letters);
    consumeChannel.ack(batch[batch.length - 1].message, true);

    const now = Date.now();
    metrics.batchesWritten++;
    metrics.messagesDeadLettered += letters.length;
    const stored = rows.length - countRowsOf(rows, rejected);
    metrics.readingsOut += stored;
    if (stored > 0) metrics.lastReadingAt = new Date(now);
    metrics.batchLatency.record(now - batch[0].receivedAt);
    for (const { owner, reading } of rows) {
      if (rejected.has(owner)) continue;
      metrics.endToEndLatency.record(now - reading.time);
      metrics.devices.record(reading.device, now);
    }
    this.options.logger.debug('batch stored', {
      messages: batch.length,
      rows: rows.length,
      queuedMs: startedAt - batch[batch.length - 1].receivedAt,
      scriptMs,
      writeMs,
    });
    for (const letter of letters) {
      this.options.logger.warn('message dead-lettered', {
        stage: letter.stage,
        reason: letter.reason,
        routingKey: letter.message.fields.routingKey,
      });
    }
  }

  private async runScript(
    parsed: OwnedReading[],
    batch: Delivery[],
    letters: DeadLetter[],
  ): Promise<OwnedReading[]> {
    const { sandbox, metrics } = this.options;
    if (!sandbox || parsed.length === 0) return parsed;
    const outcomes = await sandbox.run(parsed.map(({ reading }) => reading));
    const rows: OwnedReading[] = [];
    outcomes.forEach((outcome, index) => {
      const { owner } = parsed[index];
      if (!outcome.ok) {
        letters.push({ message: batch[owner].message, stage: 'script', reason: outcome.reason });
      } else if (outcome.readings.length === 0) {
        metrics.readingsDropped++;
      } else {
        for (const reading of outcome.readings) rows.push({ owner, reading });
      }
    });
    return rows;
  }

  /**
   * Writes until the database confirms. Transient errors (database down, timeouts) are retried
   * forever with backoff: nothing is acknowledged meanwhile, so the broker keeps the messages.
   * Rows the database rejects are isolated by halving the batch; returns their owners and why.
   */
  private async writeWithRetry(rows: OwnedReading[]): Promise<Map<number, string>> {
    const rejected = new Map<number, string>();
    if (rows.length === 0) return rejected;
    const { writer, metrics, logger } = this.options;
    const outcome = await retryUntilSuccess(
      async () => {
        try {
          await writer.write(rows.map(({ reading }) => reading));
          return 'written' as const;
        } catch (error) {
          if (error instanceof RejectedByDatabaseError) return error;
          throw error;
        }
      },
      (error, attempt, delayMs) => {
        metrics.writeRetries++;
        metrics.databaseReady = false;
        metrics.lastWriteError = describeError(error);
        if (Date.now() - this.lastRetryLogAt > 5000) {
          this.lastRetryLogAt = Date.now();
          logger.warn('database write failed; retrying', {
            attempt,
            delayMs,
            error: metrics.lastWriteError,
          });
        }
        // After a reconnect the schema may be missing (e.g. a restored or new database).
        void writer.prepare().catch(() => undefined);
      },
      this.options.backoff ?? DEFAULT_BACKOFF,
    );
    metrics.databaseReady = true;
    if (outcome === 'written') return rejected;

    const owners = new Set(rows.map(({ owner }) => owner));
    if (owners.size === 1) {
      rejected.set(rows[0].owner, outcome.message);
      return rejected;
    }
    const middle = splitPoint(rows);
    for (const half of [rows.slice(0, middle), rows.slice(middle)]) {
      for (const [owner, reason] of await this.writeWithRetry(half)) rejected.set(owner, reason);
    }
    return rejected;
  }
}

/** The middle of the rows, moved to an owner boundary so one message's rows stay together. */
function splitPoint(rows: OwnedReading[]): number {
  let middle = Math.floor(rows.length / 2);
  while (middle < rows.length && rows[middle].owner === rows[middle - 1].owner) middle++;
  if (middle === rows.length) {
    middle = Math.floor(rows.length / 2);
    while (middle > 0 && rows[middle].owner === rows[middle - 1].owner) middle--;
  }
  return middle;
}

function countRowsOf(rows: OwnedReading[], owners: Map<number, string>): number {
  if (owners.size === 0) return 0;
  return rows.filter(({ owner }) => owners.has(owner)).length;
}
