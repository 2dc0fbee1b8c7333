import { Injectable } from '@nestjs/common';
import type { ReadingAlertRule } from '@fieldstation/platform-stack';
import type { Platform } from './platform.entity';

/** A platform's reading thresholds, and the Grafana uids of deleted ones still to delete. */
export interface PlatformReadingAlertSet {
  rules: ReadingAlertRule[];
  deletedUids: string[];
}

/** What platforms need from the alert rules (`alerts/`, above them): Grafana's reading thresholds. */
export interface ReadingAlertSource {
  forPlatform(platform: Platform): Promise<PlatformReadingAlertSet>;
  /** Grafana reloaded a file listing these deletions (its reload answered success). */
  deletionsApplied(platformId: string, deletedUids: readonly string[]): Promise<void>;
}

/**
 * Where the alert rules register themselves (alerts/ imports platforms, so platforms cannot
 * import it): a launch renders these into Grafana's alerting provisioning, and so does a change.
 * None registered (an app without alerts/): no rules.
 */
@Injectable()
export class PlatformReadingAlerts {
  private source: ReadingAlertSource | undefined;

  register(source: ReadingAlertSource): void {
    if (this.source) throw new Error('A reading alert source is registered twice');
    this.source = source;
  }

  async forPlatform(platform: Platform): Promise<PlatformReadingAlertSet> {
    return this.source ? this.source.forPlatform(platform) : { rules: [], deletedUids: [] };
  }

  async deletionsApplied(platformId: string, deletedUids: readonly string[]): Promise<void> {
    if (this.source && deletedUids.length > 0) {
      await this.source.deletionsApplied(platformId, deletedUids);
    }
  }
}
