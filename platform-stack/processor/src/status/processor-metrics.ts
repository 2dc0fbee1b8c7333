import { DeviceFigures } from './device-figures';
import { LatencyHistogram } from './latency-histogram';

/** Counters shown on the status endpoint. */
export class ProcessorMetrics {
  readonly startedAt = new Date();
  messagesIn = 0;
  /** Rows (points, documents) the database confirmed. */
  readingsOut = 0;
  /** Readings the user's script dropped by returning null. */
  readingsDropped = 0;
  messagesDeadLettered = 0;
  batchesWritten = 0;
  writeRetries = 0;
  lastWriteError?: string;
  databaseReady = false;
  consuming = false;
  /** When the database last confirmed a reading. */
  lastReadingAt: Date | null = null;
  /** Per device: last stored reading and readings stored in the last hour (`GET /devices`). */
  readonly devices = new DeviceFigures();
  /** Ready messages waiting in the queue, sampled every few seconds (null until known). */
  queueDepth: number | null = null;
  /** From the batch's first message arriving to the database confirming it. */
  readonly batchLatency = new LatencyHistogram();
  /** From the reading's own timestamp (the device's clock) to the database confirming it. */
  readonly endToEndLatency = new LatencyHistogram();

  snapshot(): Record<string, unknown> {
    return {
      startedAt: this.startedAt.toISOString(),
      consuming: this.consuming,
      databaseReady: this.databaseReady,
      messagesIn: this.messagesIn,
      readingsOut: this.readingsOut,
      readingsDropped: this.readingsDropped,
      messagesFailed: this.messagesDeadLettered,
      batchesWritten: this.batchesWritten,
      writeRetries: this.writeRetries,
      lastWriteError: this.lastWriteError ?? null,
      lastReadingAt: this.lastReadingAt?.toISOString() ?? null,
      queueDepth: this.queueDepth,
      batchLatencyMs: {
        p50: this.batchLatency.percentile(50),
        p99: this.batchLatency.percentile(99),
      },
      endToEndLatencyMs: {
        p50: this.endToEndLatency.percentile(50),
        p99: this.endToEndLatency.percentile(99),
      },
    };
  }
}
