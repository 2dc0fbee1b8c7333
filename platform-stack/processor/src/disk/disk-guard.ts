import { Logger, describeError } from '../log/logger';
import type { DiskUsage, DiskUsageSource } from './disk-usage';

/** At this use of the data volume the processor stops taking readings from the broker. */
export const PAUSE_AT_PERCENT = 95;
/** Consuming resumes below this, a little under the pause mark so a volume at the edge does not flap. */
export const RESUME_BELOW_PERCENT = 93;

export interface DiskGuardOptions {
  read: DiskUsageSource;
  /** Stop consuming (cancel the consumer): what is not delivered waits in the broker. */
  pause: () => Promise<void>;
  /** Consume again. */
  resume: () => Promise<void>;
  logger: Logger;
}

/**
 * Keeps the processor from writing to a nearly full data volume: at PAUSE_AT_PERCENT it cancels
 * its consumer, so readings stay in the queue (unacknowledged, nothing lost) instead of a
 * database failing or corrupting on a full disk; it consumes again once space is freed.
 */
export class DiskGuard {
  private usage: DiskUsage | null = null;
  private pausedReason: string | null = null;
  private readError: string | null = null;
  private checking: Promise<void> | null = null;

  constructor(private readonly options: DiskGuardOptions) {}

  /** One reading of the volume and the pause/resume it calls for; overlapping calls share one. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = null));
    return this.checking;
  }

  get paused(): boolean {
    return this.pausedReason !== null;
  }

  /** For the status endpoint: the last figure and, while paused, why. */
  snapshot(): {
    usedPercent: number | null;
    bytesFree: number | null;
    pausedReason: string | null;
    readError: string | null;
  } {
    return {
      usedPercent: this.usage?.usedPercent ?? null,
      bytesFree: this.usage?.bytesFree ?? null,
      pausedReason: this.pausedReason,
      readError: this.readError,
    };
  }

  private async checkOnce(): Promise<void> {
    let usage: DiskUsage;
    try {
      usage = await this.options.read();
      this.readError = null;
    } catch (error) {
      // Without a figure nothing changes: a paused processor stays paused, a running one runs.
      this.readError = describeError(error);
      return;
    }
    this.usage = usage;
    if (!this.paused && usage.usedPercent >= PAUSE_AT_PERCENT) {
      const reason = `The data volume is ${usage.usedPercent} % full (pausing at ${PAUSE_AT_PERCENT} %): readings wait in the broker until space is freed. Grow the volume or free space on it: a shorter retention frees space on TimescaleDB and InfluxDB, while PostgreSQL and MongoDB keep deleted space for new rows`;
      await this.options.pause();
      this.pausedReason = reason;
      this.options.logger.error('paused consuming: data volume nearly full', {
        usedPercent: usage.usedPercent,
        bytesFree: usage.bytesFree,
      });
    } else if (this.paused && usage.usedPercent < RESUME_BELOW_PERCENT) {
      await this.options.resume();
      this.pausedReason = null;
      this.options.logger.info('resumed consuming: space on the data volume was freed', {
        usedPercent: usage.usedPercent,
      });
    }
  }
}
