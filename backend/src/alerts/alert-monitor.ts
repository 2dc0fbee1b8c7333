import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { Device } from '../devices/device.entity';
import { sampleOf } from '../metrics/metric-series';
import { MetricsHistory } from '../metrics/metrics-history';
import { NotificationChannels } from '../notifications/notification-channels.service';
import type { PlatformHealthObservation } from '../platforms/health-observers';
import { evaluateRule, nextState, type DeviceActivity } from './alert-evaluation';
import { AlertEvent } from './alert-event.entity';
import { AlertRule } from './alert-rule.entity';

/** Samples a few minutes beyond the longest rule: the one before its window gives the rate. */
const MARGIN_MS = 5 * 60_000;

/**
 * The thin scheduler around the pure evaluation: after each health check of a platform (the
 * worker, once a minute, no user session needed) it judges the platform's rules on the stored
 * history and records what changed; events marked `notify` go to the owner's channels.
 */
@Injectable()
export class AlertMonitor {
  constructor(
    @InjectRepository(AlertRule) private readonly rules: Repository<AlertRule>,
    @InjectRepository(AlertEvent) private readonly events: Repository<AlertEvent>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly history: MetricsHistory,
    private readonly notifications: NotificationChannels,
  ) {}

  async observe(observation: PlatformHealthObservation): Promise<AlertEvent[]> {
    const { platform, observedAt: now } = observation;
    const rules = await this.rules.findBy({ platformId: platform.id });
    if (rules.length === 0) return [];
    const longest = Math.max(...rules.map((rule) => rule.minutes)) * 60_000;
    const samples = await this.history.since(
      platform.id,
      new Date(now.getTime() - longest - MARGIN_MS),
    );
    // Observers run in the order they registered: this check's sample may not be stored yet.
    if (samples.at(-1)?.sampledAt.getTime() !== now.getTime()) samples.push(sampleOf(observation));
    const devices = rules.some((rule) => rule.kind === 'device-silent')
      ? await this.deviceActivity(platform.id)
      : [];
    const recorded: AlertEvent[] = [];
    for (const rule of rules) {
      const evaluation = evaluateRule(rule, samples, devices, now);
      const { state, event } = nextState(rule, evaluation.firing, now);
      await this.rules.update(
        { id: rule.id },
        {
          state: state.state,
          firingSince: state.firingSince,
          lastNotifiedAt: state.lastNotifiedAt,
          detail: evaluation.detail,
        },
      );
      if (!event) continue;
      const record = this.events.create({
        id: randomUUID(),
        ruleId: rule.id,
        at: now,
        kind: event.kind,
        message: `${platform.name}: ${event.kind === 'resolved' ? 'resolved' : evaluation.detail}`,
        notify: event.notify,
      });
      await this.events.insert(record);
      recorded.push(record);
      if (event.notify) {
        await this.notifications.notifyUser(rule.userId, {
          type: `alert.${event.kind}`,
          title: `${event.kind === 'resolved' ? 'Resolved' : 'Alert'}: ${rule.kind} on ${platform.name}`,
          text: record.message,
          platformId: platform.id,
        });
      }
    }
    return recorded;
  }

  /**
   * The platform's active devices. The registry keeps no reading times yet, so
   * `lastReadingAt` stays unknown and device-silent rules judge nothing (see README).
   */
  private async deviceActivity(platformId: string): Promise<DeviceActivity[]> {
    const devices = await this.devices.findBy({ platformId, activeName: Not(IsNull()) });
    return devices.map(({ name, labels, createdAt }) => ({ name, labels, createdAt }));
  }
}
