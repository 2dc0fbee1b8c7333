import { Injectable, Logger } from '@nestjs/common';
import type { ProcessorDeviceFigures } from '../provision/platform-host';
import type { Platform, PlatformHealth } from './platform.entity';

/** What one health check of one running platform saw. */
export interface PlatformHealthObservation {
  platform: Platform;
  health: PlatformHealth;
  /** The processor's `/status` answer (counters, latencies); null when the host was not read. */
  processor: Record<string, unknown> | null;
  /**
   * The processor's per-device figures (`GET /devices`, read with `/status`): last stored reading
   * per device name. Absent or null when not read; a device missing from it sent nothing since
   * the processor started (`processor.startedAt`), or was forgotten past the processor's cap.
   */
  processorDevices?: Record<string, ProcessorDeviceFigures> | null;
  observedAt: Date;
}

export type PlatformHealthObserver = (observation: PlatformHealthObservation) => Promise<void>;

/**
 * Where features above platforms (metrics history, alerts) register to hear each health check,
 * so the check reads a platform once a minute for all of them. An observer that fails is logged
 * and does not stop the others or the check.
 */
@Injectable()
export class PlatformHealthObservers {
  private readonly logger = new Logger(PlatformHealthObservers.name);
  private readonly observers: { name: string; observe: PlatformHealthObserver }[] = [];

  register(name: string, observe: PlatformHealthObserver): void {
    this.observers.push({ name, observe });
  }

  async notify(observation: PlatformHealthObservation): Promise<void> {
    for (const { name, observe } of this.observers) {
      try {
        await observe(observation);
      } catch (error) {
        this.logger.error(
          `${name} failed on platform ${observation.platform.id}: ${(error as Error).message}`,
        );
      }
    }
  }
}
