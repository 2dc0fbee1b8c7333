/** One device's figures: when its last reading was stored, and stored readings per minute. */
interface Figures {
  lastReadingAt: number;
  /** Readings stored in each of the last 60 minutes; slot = minute number % 60. */
  perMinute: Uint32Array;
  /** The minute number (epoch minutes) each slot counts; an older one counts nothing now. */
  minuteOfSlot: Float64Array;
}

const MINUTE_MS = 60_000;
const WINDOW_MINUTES = 60;

/**
 * Per-device live figures for the fleet view (issue 14 item 5): last stored reading and readings
 * stored in the last hour (by minute, so the hour slides minute by minute). Memory is bounded:
 * at most `maxDevices` devices (about 0.8 KB each); when a new device would exceed it, the one
 * silent the longest is forgotten. Kept in memory only: a processor restart starts afresh.
 */
export class DeviceFigures {
  private readonly devices = new Map<string, Figures>();

  constructor(private readonly maxDevices = 10_000) {}

  /** `count` readings of `device` stored at `at` (epoch ms). */
  record(device: string, at: number, count = 1): void {
    let figures = this.devices.get(device);
    if (figures) {
      // Map order is insertion order: re-inserting keeps the least recently stored device first.
      this.devices.delete(device);
    } else {
      if (this.devices.size >= this.maxDevices) {
        this.devices.delete(this.devices.keys().next().value as string);
      }
      figures = {
        lastReadingAt: at,
        perMinute: new Uint32Array(WINDOW_MINUTES),
        minuteOfSlot: new Float64Array(WINDOW_MINUTES).fill(-1),
      };
    }
    this.devices.set(device, figures);
    figures.lastReadingAt = Math.max(figures.lastReadingAt, at);
    const minute = Math.floor(at / MINUTE_MS);
    const slot = minute % WINDOW_MINUTES;
    if (figures.minuteOfSlot[slot] !== minute) {
      figures.minuteOfSlot[slot] = minute;
      figures.perMinute[slot] = 0;
    }
    figures.perMinute[slot] += count;
  }

  get size(): number {
    return this.devices.size;
  }

  /** `{device: {lastReadingAt, readingsLastHour}}` as of `now`. */
  snapshot(now = Date.now()): Record<string, { lastReadingAt: string; readingsLastHour: number }> {
    const oldest = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1;
    const answer: Record<string, { lastReadingAt: string; readingsLastHour: number }> = {};
    for (const [device, figures] of this.devices) {
      let readingsLastHour = 0;
      for (let slot = 0; slot < WINDOW_MINUTES; slot++) {
        if (figures.minuteOfSlot[slot] >= oldest) readingsLastHour += figures.perMinute[slot];
      }
      answer[device] = {
        lastReadingAt: new Date(figures.lastReadingAt).toISOString(),
        readingsLastHour,
      };
    }
    return answer;
  }
}
