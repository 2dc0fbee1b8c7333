import { Injectable } from '@nestjs/common';
import type { ReadingAlertRule } from '@fieldstation/platform-stack';
import type { Platform } from './platform.entity';

/** What platforms need from the alert rules (`alerts/`, above them): Grafana's reading thresholds. */
export type ReadingAlertSource = (platform: Platform) => Promise<ReadingAlertRule[]>;

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

  async forPlatform(platform: Platform): Promise<ReadingAlertRule[]> {
    return this.source ? this.source(platform) : [];
  }
}
