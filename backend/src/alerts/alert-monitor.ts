import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { certificateExpiry } from '@fieldstation/platform-stack';
import { In, IsNull, Not, Repository } from 'typeorm';
import { BackupRun } from '../backups/backup-run.entity';
import { BackupSchedule } from '../backups/backup-schedule.entity';
import { Device } from '../devices/device.entity';
import { sampleOf } from '../metrics/metric-series';
import { MetricsHistory } from '../metrics/metrics-history';
import { NotificationChannels } from '../notifications/notification-channels.service';
import type { PlatformHealthObservation } from '../platforms/health-observers';
import type { Platform } from '../platforms/platform.entity';
import {
  evaluateRule,
  nextState,
  type BackupOutcome,
  type CertificateExpiry,
  type DeviceActivity,
  type StoredRecords,
} from './alert-evaluation';
import { AlertEvent } from './alert-event.entity';
import { AlertRule } from './alert-rule.entity';

/** Samples a few minutes beyond the longest rule: the one before its window gives the rate. */
const MARGIN_MS = 5 * 60_000;
/** Backup runs read back: enough to count a run of failures in the detail. */
const BACKUPS_READ = 20;

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
    @InjectRepository(BackupRun) private readonly backupRuns: Repository<BackupRun>,
    @InjectRepository(BackupSchedule)
    private readonly backupSchedules: Repository<BackupSchedule>,
    private readonly history: MetricsHistory,
    private readonly notifications: NotificationChannels,
  ) {}

  async observe(observation: PlatformHealthObservation): Promise<AlertEvent[]> {
    const { platform, observedAt: now } = observation;
    // Reading thresholds are Grafana's to evaluate, on the readings themselves.
    const rules = (await this.rules.findBy({ platformId: platform.id })).filter(
      (rule) => rule.kind !== 'reading-threshold',
    );
    if (rules.length === 0) return [];
    const longest = Math.max(...rules.map((rule) => rule.minutes)) * 60_000;
    const samples = await this.history.since(
      platform.id,
      new Date(now.getTime() - longest - MARGIN_MS),
    );
    // Observers run in the order they registered: this check's sample may not be stored yet.
    if (samples.at(-1)?.sampledAt.getTime() !== now.getTime()) samples.push(sampleOf(observation));
    const devices = rules.some((rule) => rule.kind === 'device-silent')
      ? await this.deviceActivity(platform.id, observation)
      : [];
    const records: StoredRecords = {
      backups: rules.some((rule) => rule.kind === 'backup-failed')
        ? await this.backupOutcomes(platform.id)
        : [],
      certificates: rules.some((rule) => rule.kind === 'certificate-expiring')
        ? await this.certificates(platform)
        : [],
    };
    const recorded: AlertEvent[] = [];
    for (const rule of rules) {
      const evaluation = evaluateRule(rule, samples, devices, now, records);
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
   * The platform's active devices with their last reading as the processor counts it (read by
   * this health check). Its figures live in memory: a device it has no figure for sent nothing
   * since the processor started (`/status` `startedAt`): created after that start, it counts
   * from its creation (as the fleet view does); created before, nothing is known before the start
   * (a restart forgets), so it is silent only once the start is `minutes` old and unknown until
   * then. Figures not read this check: unknown, and the rule keeps its state.
   */
  private async deviceActivity(
    platformId: string,
    observation: PlatformHealthObservation,
  ): Promise<DeviceActivity[]> {
    const devices = await this.devices.findBy({ platformId, activeName: Not(IsNull()) });
    const figures = observation.processorDevices;
    const startedAt =
      typeof observation.processor?.startedAt === 'string'
        ? new Date(observation.processor.startedAt)
        : null;
    return devices.map(({ name, labels, createdAt }) => {
      const figure = figures?.[name];
      if (!figures || !startedAt || Number.isNaN(startedAt.getTime())) {
        return { name, labels, createdAt };
      }
      if (figure) return { name, labels, createdAt, lastReadingAt: new Date(figure.lastReadingAt) };
      if (createdAt >= startedAt) return { name, labels, createdAt, lastReadingAt: null };
      return { name, labels, createdAt, lastReadingAt: null, nothingSince: startedAt };
    });
  }

  /**
   * The platform's finished backups of the schedules it still has, newest first (restores are not
   * judged, and a deleted schedule's failures no longer keep the alert firing).
   */
  private async backupOutcomes(platformId: string): Promise<BackupOutcome[]> {
    const schedules = await this.backupSchedules.find({
      select: { id: true },
      where: { platformId },
    });
    if (schedules.length === 0) return [];
    const runs = await this.backupRuns.find({
      select: { status: true, startedAt: true },
      where: {
        platformId,
        scheduleId: In(schedules.map(({ id }) => id)),
        kind: 'backup',
        status: In(['succeeded', 'failed']),
      },
      order: { startedAt: 'DESC' },
      take: BACKUPS_READ,
    });
    return runs.map(({ status, startedAt }) => ({
      status: status === 'succeeded' ? 'succeeded' : 'failed',
      startedAt,
    }));
  }

  /** Its active devices' client certificates, its CA and its broker's server certificate. */
  private async certificates(platform: Platform): Promise<CertificateExpiry[]> {
    const devices = await this.devices.find({
      select: { name: true, certificateExpiresAt: true },
      where: {
        platformId: platform.id,
        activeName: Not(IsNull()),
        certificateExpiresAt: Not(IsNull()),
      },
    });
    const certificates = devices.map(({ name, certificateExpiresAt }) => ({
      name,
      expiresAt: certificateExpiresAt!,
    }));
    if (platform.caCertificatePem) {
      certificates.push({
        name: 'platform CA',
        expiresAt: certificateExpiry(platform.caCertificatePem),
      });
    }
    if (platform.tlsCertificateExpiresAt) {
      certificates.push({
        name: 'broker TLS certificate',
        expiresAt: platform.tlsCertificateExpiresAt,
      });
    }
    return certificates;
  }
}
