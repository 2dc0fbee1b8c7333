import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { readingAlertUid, supportsReadingAlerts } from '@fieldstation/platform-stack';
import { In, IsNull, Not, Repository } from 'typeorm';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { DeploymentStarter } from '../deployments/deployment-starter';
import { Deployment, type DeploymentStatus } from '../deployments/deployment.entity';
import { Device } from '../devices/device.entity';
import { JobName } from '../jobs/job-names';
import type { PlatformStatus } from '../platforms/platform-lifecycle';
import { PlatformRecords } from '../platforms/platform-records';
import type { PlatformReadingAlertSet } from '../platforms/platform-reading-alerts';
import type { Platform } from '../platforms/platform.entity';
import { splitLabel } from './alert-evaluation';
import { AlertEvent } from './alert-event.entity';
import { AlertRule, type AlertKind } from './alert-rule.entity';
import type { CreateAlertRuleInput, UpdateAlertRuleInput } from './dto/alert-rule.dto';
import { ReadingAlertDeletion } from './reading-alert-deletion.entity';

const EVENTS_SHOWN = 200;
/** certificate-expiring without a threshold: warn this many days ahead. */
const CERTIFICATE_WARNING_DAYS = 30;
/** Kinds that judge stored records, not a span of samples: their `minutes` is unused (0). */
const RECORD_KINDS: readonly AlertKind[] = ['backup-failed', 'certificate-expiring'];

/**
 * What a new platform starts with: told within about two minutes of a platform going down,
 * of the first dead-lettered messages, or of a backlog held for five minutes.
 */
export const DEFAULT_RULES: Pick<AlertRule, 'kind' | 'minutes' | 'threshold'>[] = [
  { kind: 'platform-unhealthy', minutes: 1, threshold: null },
  { kind: 'dead-letter-rate', minutes: 5, threshold: 0 },
  { kind: 'queue-depth', minutes: 5, threshold: 10_000 },
  // The platform turns degraded at 85 % too; the processor pauses ingest at 95 %.
  { kind: 'disk-use', minutes: 5, threshold: 85 },
  // Judged on stored records at each check: the latest backup run, certificates within 30 days.
  { kind: 'backup-failed', minutes: 0, threshold: null },
  { kind: 'certificate-expiring', minutes: 0, threshold: CERTIFICATE_WARNING_DAYS },
];
const DEFAULT_RENOTIFY_MINUTES = 60;
/**
 * Statuses where a reading-threshold change is only stored: a launch that has not reached
 * `configuring` renders the thresholds then; a failed or destroyed platform runs nothing.
 */
const STORED_FOR_LATER: readonly PlatformStatus[] = [
  'queued',
  'provisioning_infra',
  'waiting_for_host',
  'failed',
  'destroyed',
];

const invalid = (field: string, problem: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${field} ${problem}`, [
    { field, problems: [problem] },
  ]);

const ruleNotFound = () =>
  new ApiError(HttpStatus.NOT_FOUND, 'ALERT_RULE_NOT_FOUND', 'No such alert rule');

/** The user's alert rules of their platforms: checked input, names that exist. */
@Injectable()
export class AlertRules {
  constructor(
    @InjectRepository(AlertRule) private readonly rules: Repository<AlertRule>,
    @InjectRepository(AlertEvent) private readonly events: Repository<AlertEvent>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectRepository(ReadingAlertDeletion)
    private readonly deletions: Repository<ReadingAlertDeletion>,
    @InjectRepository(Deployment) private readonly deployments: Repository<Deployment>,
    private readonly platforms: PlatformRecords,
    private readonly starter: DeploymentStarter,
  ) {}

  async list(userId: string, platformId: string): Promise<AlertRule[]> {
    await this.platforms.getOwned(userId, platformId);
    return this.rules.find({ where: { userId, platformId }, order: { createdAt: 'ASC' } });
  }

  /**
   * The platform's latest reading-alerts deployment (the last apply of its reading thresholds to
   * Grafana), null if none; its error is the deployment's own, shown in its log too.
   */
  async lastGrafanaApply(userId: string, platformId: string): Promise<GrafanaApply | null> {
    const latest = await this.deployments.findOne({
      select: { id: true, status: true, error: true },
      where: { userId, targetId: platformId, action: 'reading-alerts' },
      order: { createdAt: 'DESC' },
    });
    return latest ? { deploymentId: latest.id, status: latest.status, error: latest.error } : null;
  }

  async create(
    auth: AuthContext,
    platformId: string,
    input: CreateAlertRuleInput,
  ): Promise<AlertRuleChange> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    if (input.minutes === undefined && !RECORD_KINDS.includes(input.kind))
      throw invalid('minutes', `is required for ${input.kind}`);
    checkFields(input.kind, input);
    for (const name of READING_FIELDS) {
      if (input.kind === 'reading-threshold' && input[name] === undefined)
        throw invalid(name, 'is required for reading-threshold');
    }
    if (input.kind === 'reading-threshold' && !supportsReadingAlerts(platform.database)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'READING_ALERTS_UNSUPPORTED',
        'Grafana cannot evaluate reading thresholds on a MongoDB platform (it has no MongoDB datasource)',
        [
          {
            field: 'kind',
            problems: ['reading-threshold needs InfluxDB, PostgreSQL or TimescaleDB'],
          },
        ],
      );
    }
    if (input.kind === 'reading-threshold' && platform.ports.grafana === null) {
      // Its admin API is reached on the host's loopback, where the stack publishes it.
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'GRAFANA_NOT_PUBLISHED',
        "This platform's Grafana has no port on its host, so its alert rules cannot be reloaded",
        [{ field: 'kind', problems: ['reading-threshold needs Grafana published on the host'] }],
      );
    }
    if (input.device) await this.assertDeviceExists(platformId, input.device);
    if (input.label) await this.assertLabelExists(platformId, input.label);
    const rule = this.newRule(platform, {
      kind: input.kind,
      minutes: input.minutes ?? 0,
      threshold:
        input.threshold ??
        (input.kind === 'certificate-expiring' ? CERTIFICATE_WARNING_DAYS : null),
      measurement: input.measurement ?? null,
      field: input.field ?? null,
      operator: input.operator ?? null,
      device: input.device ?? null,
      label: input.label ?? null,
      reNotifyMinutes: input.reNotifyMinutes ?? DEFAULT_RENOTIFY_MINUTES,
    });
    await this.assertNotDuplicate(rule);
    const deploymentId = await this.changing(auth, platform, rule, () => this.rules.insert(rule));
    return { rule, deploymentId };
  }

  async update(
    auth: AuthContext,
    platformId: string,
    ruleId: string,
    input: UpdateAlertRuleInput,
  ): Promise<AlertRuleChange> {
    const { platform, rule } = await this.getOwned(auth.userId, platformId, ruleId);
    const changes: Partial<AlertRule> = {};
    if (input.minutes !== undefined) changes.minutes = input.minutes;
    if (input.reNotifyMinutes !== undefined) changes.reNotifyMinutes = input.reNotifyMinutes;
    if (input.mutedUntil !== undefined) changes.mutedUntil = input.mutedUntil;
    if (input.threshold !== undefined) changes.threshold = input.threshold;
    // The rule as it would be stored is checked, so a threshold the kind needs may stay as it was.
    const merged = { ...rule, ...changes };
    if (input.minutes !== undefined || input.threshold !== undefined) {
      checkFields(rule.kind, { minutes: merged.minutes, threshold: merged.threshold ?? undefined });
      await this.assertNotDuplicate(merged);
    }
    const deploymentId = await this.changing(auth, platform, rule, () =>
      this.rules.update({ id: rule.id }, changes),
    );
    return { rule: merged, deploymentId };
  }

  /** Answers the deployment that takes the deletion to Grafana, if one was started. */
  async remove(auth: AuthContext, platformId: string, ruleId: string): Promise<string | null> {
    const { platform, rule } = await this.getOwned(auth.userId, platformId, ruleId);
    if (rule.kind !== 'reading-threshold') {
      return this.changing(auth, platform, rule, () => this.rules.delete({ id: rule.id }));
    }
    // Grafana keeps a provisioned rule that merely leaves the file: its uid is kept (with the
    // deletion, atomically) and rendered as `deleteRules` until a reload listing it succeeded,
    // whether the platform runs now or is launched again later.
    return this.changing(auth, platform, rule, () =>
      this.rules.manager.transaction(async (manager) => {
        await manager.upsert(
          ReadingAlertDeletion,
          { uid: readingAlertUid(rule.id), platformId: platform.id, deletedAt: new Date() },
          ['uid'],
        );
        await manager.delete(AlertRule, { id: rule.id });
      }),
    );
  }

  /**
   * The platform's reading thresholds as Grafana's provisioning takes them, and the uids of
   * deleted ones not yet confirmed gone from Grafana.
   */
  async readingAlerts(platform: Platform): Promise<PlatformReadingAlertSet> {
    const deleted = await this.deletions.find({
      select: { uid: true },
      where: { platformId: platform.id },
      order: { uid: 'ASC' },
    });
    const deletedUids = deleted.map((deletion) => deletion.uid);
    if (!supportsReadingAlerts(platform.database)) return { rules: [], deletedUids };
    const rules = await this.rules.find({
      where: { platformId: platform.id, kind: 'reading-threshold' },
      order: { createdAt: 'ASC' },
    });
    return {
      rules: rules.map((rule) => ({
        id: rule.id,
        measurement: rule.measurement!,
        field: rule.field!,
        operator: rule.operator!,
        value: rule.threshold!,
        forMinutes: rule.minutes,
        ...(rule.device ? { device: rule.device } : {}),
      })),
      deletedUids,
    };
  }

  /** A reload that listed these deletions succeeded: Grafana no longer has those rules. */
  async deletionsApplied(platformId: string, deletedUids: readonly string[]): Promise<void> {
    await this.deletions.delete({ platformId, uid: In([...deletedUids]) });
  }

  /**
   * Makes a change; one to a reading threshold of a running platform is taken to its Grafana by a
   * deployment (with its log), and stored only once that deployment is recorded, so a 409
   * (something else runs on the platform) changes nothing. A platform that is not running gets
   * its thresholds at its next launch; one amid a step that has rendered them already or is
   * changing the host (configuring, verifying, updating, destroying) is a 409 PLATFORM_BUSY, since
   * nothing would take the change to Grafana.
   */
  private async changing(
    auth: AuthContext,
    platform: Platform,
    rule: AlertRule,
    change: () => Promise<unknown>,
  ): Promise<string | null> {
    if (rule.kind !== 'reading-threshold' || STORED_FOR_LATER.includes(platform.status)) {
      await change();
      return null;
    }
    if (platform.status !== 'running') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_BUSY',
        `The platform is ${platform.status}: change its reading thresholds once it is running`,
      );
    }
    return this.starter.start(
      auth,
      { kind: 'platform', id: platform.id },
      'reading-alerts',
      JobName.PlatformReadingAlerts,
      async () => void (await change()),
    );
  }

  /** The rule's history, newest first. */
  async history(userId: string, platformId: string, ruleId: string): Promise<AlertEvent[]> {
    const { rule } = await this.getOwned(userId, platformId, ruleId);
    return this.events.find({
      where: { ruleId: rule.id },
      order: { at: 'DESC' },
      take: EVENTS_SHOWN,
    });
  }

  /** A new platform's rules (the launch hook). */
  async createDefaults(platform: Platform): Promise<void> {
    await this.rules.insert(
      DEFAULT_RULES.map((fields) =>
        this.newRule(platform, {
          ...fields,
          measurement: null,
          field: null,
          operator: null,
          device: null,
          label: null,
          reNotifyMinutes: DEFAULT_RENOTIFY_MINUTES,
        }),
      ),
    );
  }

  private newRule(
    platform: Platform,
    fields: Pick<
      AlertRule,
      | 'kind'
      | 'minutes'
      | 'threshold'
      | 'measurement'
      | 'field'
      | 'operator'
      | 'device'
      | 'label'
      | 'reNotifyMinutes'
    >,
  ): AlertRule {
    return this.rules.create({
      id: randomUUID(),
      userId: platform.userId,
      platformId: platform.id,
      ...fields,
      mutedUntil: null,
      state: 'ok',
      firingSince: null,
      lastNotifiedAt: null,
      detail: null,
    });
  }

  private async getOwned(
    userId: string,
    platformId: string,
    ruleId: string,
  ): Promise<{ platform: Platform; rule: AlertRule }> {
    const platform = await this.platforms.getOwned(userId, platformId);
    const rule = await this.rules.findOneBy({ id: ruleId, userId, platformId });
    if (!rule) throw ruleNotFound();
    return { platform, rule };
  }

  /**
   * Refuses a reading threshold the same as another of the platform's in every figure: Grafana
   * would evaluate and notify it twice.
   */
  private async assertNotDuplicate(rule: AlertRule): Promise<void> {
    if (rule.kind !== 'reading-threshold') return;
    const twin = await this.rules.findOneBy({
      id: Not(rule.id),
      platformId: rule.platformId,
      kind: rule.kind,
      measurement: rule.measurement ?? IsNull(),
      field: rule.field ?? IsNull(),
      operator: rule.operator ?? IsNull(),
      threshold: rule.threshold ?? IsNull(),
      minutes: rule.minutes,
      device: rule.device ?? IsNull(),
    });
    if (twin) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'DUPLICATE_RULE',
        `Rule ${twin.id} already has this measurement, field, operator, threshold, minutes and device`,
      );
    }
  }

  private async assertDeviceExists(platformId: string, name: string): Promise<void> {
    const found = await this.devices.existsBy({ platformId, name, activeName: Not(IsNull()) });
    if (!found) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'UNKNOWN_DEVICE',
        `No device "${name}" on this platform`,
        [{ field: 'device', problems: [`no device "${name}" on this platform`] }],
      );
    }
  }

  private async assertLabelExists(platformId: string, label: string): Promise<void> {
    const [key, value] = splitLabel(label);
    const devices = await this.devices.find({
      select: { labels: true },
      where: { platformId, activeName: Not(IsNull()) },
    });
    if (!devices.some((device) => device.labels[key] === value)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'UNKNOWN_LABEL',
        `No device of this platform has the label "${label}"`,
        [{ field: 'label', problems: [`no device has the label "${label}"`] }],
      );
    }
  }
}

/** The outcome of the last apply of a platform's reading thresholds to Grafana. */
export interface GrafanaApply {
  deploymentId: string;
  status: DeploymentStatus;
  error: string | null;
}

/** What a change answers: the rule, and the deployment taking it to Grafana if one started. */
export interface AlertRuleChange {
  rule: AlertRule;
  deploymentId: string | null;
}

const READING_FIELDS = ['measurement', 'field', 'operator'] as const;

/**
 * Which fields each kind takes: a threshold where one is compared (negative only for readings),
 * a device when silent or for readings, a measurement, field and operator only for readings.
 */
function checkFields(
  kind: AlertKind,
  input: Partial<
    Pick<
      CreateAlertRuleInput,
      'minutes' | 'threshold' | 'device' | 'label' | (typeof READING_FIELDS)[number]
    >
  >,
): void {
  if (RECORD_KINDS.includes(kind) && input.minutes !== undefined && input.minutes !== 0)
    throw invalid('minutes', `is not used by ${kind}`);
  if (kind === 'backup-failed' && input.threshold !== undefined)
    throw invalid('threshold', `is not used by ${kind}`);
  const needsThreshold =
    kind === 'dead-letter-rate' ||
    kind === 'queue-depth' ||
    kind === 'disk-use' ||
    kind === 'reading-threshold';
  if (needsThreshold && input.threshold === undefined)
    throw invalid('threshold', `is required for ${kind}`);
  if (kind !== 'reading-threshold' && input.threshold !== undefined && input.threshold < 0)
    throw invalid('threshold', `must not be less than 0 for ${kind}`);
  if (kind === 'disk-use' && input.threshold !== undefined && input.threshold > 100)
    throw invalid('threshold', 'is a percentage for disk-use (0 to 100)');
  if (!needsThreshold && kind !== 'certificate-expiring' && input.threshold !== undefined)
    throw invalid('threshold', `is not used by ${kind}`);
  for (const name of READING_FIELDS) {
    if (kind !== 'reading-threshold' && input[name] !== undefined)
      throw invalid(name, `is not used by ${kind}`);
  }
  if (kind !== 'device-silent' && input.label !== undefined)
    throw invalid('label', `is not used by ${kind}`);
  if (kind !== 'device-silent' && kind !== 'reading-threshold' && input.device !== undefined)
    throw invalid('device', `is not used by ${kind}`);
  if (kind === 'device-silent' && input.device !== undefined && input.label !== undefined) {
    throw invalid('label', 'cannot be given with device (one device, or devices with a label)');
  }
}
