import type { Schemas } from '../../api/client';

export type AlertRule = Schemas['AlertRuleDto'];
export type AlertKind = AlertRule['kind'];
export type AlertEvent = Schemas['AlertEventDto'];

export const KIND_LABELS: Record<AlertKind, string> = {
  'platform-unhealthy': 'Platform unhealthy',
  'device-silent': 'Device silent',
  'dead-letter-rate': 'Dead letters',
  'queue-depth': 'Queue backlog',
  'disk-use': 'Disk use',
  'backup-failed': 'Backup failed',
  'certificate-expiring': 'Certificate expiring',
};

/** What a new platform starts with (backend alerts/alert-rules.service.ts DEFAULT_RULES). */
export const DEFAULT_RULES_TEXT =
  'A new platform starts with six rules: not healthy for 1 minute, any dead letter within ' +
  '5 minutes, more than 10,000 readings queued for 5 minutes, the data volume 85 % full or more ' +
  'for 5 minutes, the latest backup failed, a certificate expiring within 30 days. Each notifies your notification ' +
  'channels once when it fires, again every re-notify interval while it fires, and when it resolves.';

const minutesText = (minutes: number) => (minutes === 1 ? '1 minute' : `${minutes} minutes`);

/** The rule in words: "Not healthy for 1 minute", "More than 10,000 queued for 5 minutes". */
export function describeRule(
  rule: Pick<AlertRule, 'kind' | 'minutes' | 'threshold' | 'device' | 'label'>,
): string {
  const threshold = (rule.threshold ?? 0).toLocaleString('en-US');
  switch (rule.kind) {
    case 'platform-unhealthy':
      return `Not healthy for ${minutesText(rule.minutes)}`;
    case 'device-silent': {
      const which = rule.device
        ? `Device ${rule.device}`
        : rule.label
          ? `A device labelled ${rule.label}`
          : 'Any device';
      return `${which} without a reading for ${minutesText(rule.minutes)}`;
    }
    case 'dead-letter-rate':
      return rule.threshold
        ? `More than ${threshold} dead letters a minute over ${minutesText(rule.minutes)}`
        : `Any dead letter within ${minutesText(rule.minutes)}`;
    case 'queue-depth':
      return `More than ${threshold} queued for ${minutesText(rule.minutes)}`;
    case 'disk-use':
      return `Data volume ${threshold} % full or more for ${minutesText(rule.minutes)}`;
    case 'backup-failed':
      return 'The latest backup failed';
    case 'certificate-expiring':
      return `A certificate expires within ${rule.threshold === 1 ? '1 day' : `${threshold} days`}`;
  }
}

/** Which fields a kind uses besides the re-notify interval. */
export function kindFields(kind: AlertKind): {
  minutes: boolean;
  threshold: boolean;
  target: boolean;
} {
  return {
    // Backups and certificates are judged on stored records, not over a span of minutes.
    minutes: kind !== 'backup-failed' && kind !== 'certificate-expiring',
    threshold:
      kind === 'dead-letter-rate' ||
      kind === 'queue-depth' ||
      kind === 'disk-use' ||
      kind === 'certificate-expiring',
    target: kind === 'device-silent',
  };
}

export const MINUTES_HELP: Record<AlertKind, string> = {
  'platform-unhealthy': 'How long the platform must stay unhealthy or unreachable.',
  'device-silent': 'How long a device may stay without a reading.',
  'dead-letter-rate': 'The window the rate is measured over.',
  'queue-depth': 'How long the queue must stay above the threshold.',
  'disk-use': 'How long the data volume must stay at or above the percentage.',
  'backup-failed': 'Not used: the latest finished backup run decides.',
  'certificate-expiring': 'Not used: the certificates stored for the platform decide.',
};

export const THRESHOLD_LABELS: Partial<Record<AlertKind, string>> = {
  'dead-letter-rate': 'Dead letters per minute above',
  'queue-depth': 'Readings queued above',
  'disk-use': 'Percent of the data volume used, at or above',
  'certificate-expiring': 'Days before a certificate expires',
};

export const THRESHOLD_HELP: Partial<Record<AlertKind, string>> = {
  'dead-letter-rate': '0: any dead letter fires the rule.',
  'certificate-expiring':
    "Devices' client certificates, the platform CA and the broker's certificate.",
};

/** The rule form as the user fills it: empty text fields are left out. */
export interface RuleForm {
  kind: AlertKind;
  minutes: number | null;
  threshold: number | null;
  device: string;
  label: string;
  reNotifyMinutes: number | null;
}

export type CreateRuleBody = Schemas['CreateAlertRuleInput'];
export type UpdateRuleBody = Schemas['UpdateAlertRuleInput'];

/** The create body: only the fields the kind uses; the API checks the rest and names the field. */
export function createBody(form: RuleForm): CreateRuleBody {
  const fields = kindFields(form.kind);
  const body: CreateRuleBody = { kind: form.kind };
  if (fields.minutes) body.minutes = form.minutes ?? Number.NaN;
  if (fields.threshold && form.threshold !== null) body.threshold = form.threshold;
  if (fields.target && form.device.trim()) body.device = form.device.trim();
  if (fields.target && form.label.trim()) body.label = form.label.trim();
  if (form.reNotifyMinutes !== null) body.reNotifyMinutes = form.reNotifyMinutes;
  return body;
}

export function updateBody(form: RuleForm): UpdateRuleBody {
  const body: UpdateRuleBody = {};
  if (kindFields(form.kind).minutes && form.minutes !== null) body.minutes = form.minutes;
  if (kindFields(form.kind).threshold && form.threshold !== null) body.threshold = form.threshold;
  if (form.reNotifyMinutes !== null) body.reNotifyMinutes = form.reNotifyMinutes;
  return body;
}

/** Whether the rule is muted at `now`. */
export function isMuted(rule: Pick<AlertRule, 'mutedUntil'>, now: number): boolean {
  return rule.mutedUntil !== null && Date.parse(rule.mutedUntil) > now;
}

/** The instant `hours` from `now`, as the API takes it. */
export function muteUntil(now: number, hours: number): string {
  return new Date(now + hours * 3_600_000).toISOString();
}

export const MUTE_CHOICES = [
  { hours: 1, label: '1 hour' },
  { hours: 8, label: '8 hours' },
  { hours: 24, label: '1 day' },
  { hours: 7 * 24, label: '1 week' },
];
