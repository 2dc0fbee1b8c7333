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
  'reading-threshold': 'Reading value (Grafana)',
};

export type ReadingOperator = NonNullable<AlertRule['operator']>;
export const READING_OPERATORS: { value: ReadingOperator; label: string }[] = [
  { value: '>', label: 'above (>)' },
  { value: '>=', label: 'at or above (>=)' },
  { value: '<', label: 'below (<)' },
  { value: '<=', label: 'at or below (<=)' },
];

/** The dialog's help line for the kind Fieldstation does not judge itself. */
export const READING_THRESHOLD_HELP =
  "Evaluated by Grafana on the platform: it shows in Grafana's Alerting page, and Grafana's own " +
  'contact points notify (not your Fieldstation channels).';

/** What a new platform starts with (backend alerts/alert-rules.service.ts DEFAULT_RULES). */
export const DEFAULT_RULES_TEXT =
  'A new platform starts with six rules: not healthy for 1 minute, any dead letter within ' +
  '5 minutes, more than 10,000 readings queued for 5 minutes, the data volume 85 % full or more ' +
  'for 5 minutes, the latest backup failed, a certificate expiring within 30 days. Each notifies your notification ' +
  'channels once when it fires, again every re-notify interval while it fires, and when it resolves.';

const minutesText = (minutes: number) => (minutes === 1 ? '1 minute' : `${minutes} minutes`);

/** The rule in words: "Not healthy for 1 minute", "More than 10,000 queued for 5 minutes". */
export function describeRule(
  rule: Pick<AlertRule, 'kind' | 'minutes' | 'threshold' | 'device' | 'label'> &
    Partial<Pick<AlertRule, 'measurement' | 'field' | 'operator'>>,
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
    case 'reading-threshold': {
      const which = rule.device ? `device ${rule.device}` : 'any device';
      const holds = rule.minutes === 0 ? 'at once' : `for ${minutesText(rule.minutes)}`;
      return `${rule.measurement}.${rule.field} ${rule.operator} ${rule.threshold} on ${which}, ${holds}`;
    }
  }
}

/** Which fields a kind uses besides the re-notify interval. */
export function kindFields(kind: AlertKind): {
  minutes: boolean;
  threshold: boolean;
  target: boolean;
  reading: boolean;
} {
  const reading = kind === 'reading-threshold';
  return {
    // Backups and certificates are judged on stored records, not over a span of minutes.
    minutes: kind !== 'backup-failed' && kind !== 'certificate-expiring',
    threshold:
      reading ||
      kind === 'dead-letter-rate' ||
      kind === 'queue-depth' ||
      kind === 'disk-use' ||
      kind === 'certificate-expiring',
    target: kind === 'device-silent',
    reading,
  };
}

/** Names Grafana's query can take (the API refuses others, naming the field). */
export const READING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*$/;

export const MINUTES_HELP: Record<AlertKind, string> = {
  'platform-unhealthy': 'How long the platform must stay unhealthy or unreachable.',
  'device-silent': 'How long a device may stay without a reading.',
  'dead-letter-rate': 'The window the rate is measured over.',
  'queue-depth': 'How long the queue must stay above the threshold.',
  'disk-use': 'How long the data volume must stay at or above the percentage.',
  'backup-failed': 'Not used: the latest finished backup run decides.',
  'certificate-expiring': 'Not used: the certificates stored for the platform decide.',
  'reading-threshold': 'How long the value must stay beyond the threshold (0: at once).',
};

export const THRESHOLD_LABELS: Partial<Record<AlertKind, string>> = {
  'dead-letter-rate': 'Dead letters per minute above',
  'queue-depth': 'Readings queued above',
  'disk-use': 'Percent of the data volume used, at or above',
  'certificate-expiring': 'Days before a certificate expires',
  'reading-threshold': 'Value',
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
  /** reading-threshold only. */
  measurement: string;
  field: string;
  operator: ReadingOperator;
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
  if (fields.reading) {
    body.measurement = form.measurement.trim();
    body.field = form.field.trim();
    body.operator = form.operator;
    if (form.device.trim()) body.device = form.device.trim();
  } else if (form.reNotifyMinutes !== null) {
    // Grafana notifies reading thresholds on its own schedule.
    body.reNotifyMinutes = form.reNotifyMinutes;
  }
  return body;
}

/** What the form shows before the API answers: a name Grafana's query cannot take. */
export function readingFormProblems(
  form: RuleForm,
): Partial<Record<'measurement' | 'field', string>> {
  if (!kindFields(form.kind).reading) return {};
  const problems: Partial<Record<'measurement' | 'field', string>> = {};
  for (const name of ['measurement', 'field'] as const) {
    const value = form[name].trim();
    if (!value) problems[name] = `Enter the ${name}.`;
    else if (value.length > 64 || !READING_NAME.test(value))
      problems[name] = 'Letters, digits and "_" only (an inner "." or "-" too), at most 64.';
  }
  return problems;
}

export function updateBody(form: RuleForm): UpdateRuleBody {
  const body: UpdateRuleBody = {};
  const fields = kindFields(form.kind);
  if (fields.minutes && form.minutes !== null) body.minutes = form.minutes;
  if (fields.threshold && form.threshold !== null) body.threshold = form.threshold;
  if (!fields.reading && form.reNotifyMinutes !== null) body.reNotifyMinutes = form.reNotifyMinutes;
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

export type GrafanaApply = NonNullable<AlertRule['grafanaApply']>;

/**
 * What the tab says about the platform's last apply of its reading thresholds to Grafana (the
 * list gives it on each reading threshold): applying, failed with the deployment's error, or
 * nothing to say (applied, or none since the launch).
 */
export function grafanaApplyNotice(
  rules: readonly Pick<AlertRule, 'kind' | 'grafanaApply'>[],
): { deploymentId: string; severity: 'info' | 'error'; text: string } | null {
  const apply = rules.find(
    (rule) => rule.kind === 'reading-threshold' && rule.grafanaApply,
  )?.grafanaApply;
  if (!apply) return null;
  switch (apply.status) {
    case 'queued':
    case 'running':
      return {
        deploymentId: apply.deploymentId,
        severity: 'info',
        text: 'Applying the reading thresholds to Grafana…',
      };
    case 'failed':
    case 'cancelled':
      return {
        deploymentId: apply.deploymentId,
        severity: 'error',
        text:
          `The last change did not reach Grafana (${apply.status}` +
          `${apply.error ? `: ${apply.error}` : ''}). Grafana keeps the thresholds it had; ` +
          'change a threshold again to retry.',
      };
    case 'succeeded':
      return null;
  }
}

/** Whether the tab should look again soon: a change is on its way to Grafana. */
export function isApplyingToGrafana(rules: readonly Pick<AlertRule, 'kind' | 'grafanaApply'>[]) {
  return grafanaApplyNotice(rules)?.severity === 'info';
}
