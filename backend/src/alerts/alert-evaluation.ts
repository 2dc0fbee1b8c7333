import type { PlatformMetricSample } from '../metrics/platform-metric-sample.entity';
import { SAMPLE_INTERVAL_MS } from '../metrics/metric-series';
import type { AlertEventKind } from './alert-event.entity';
import type { AlertKind, AlertState } from './alert-rule.entity';

const MINUTE_MS = 60_000;
/** Samples older than this (the worker or the check stopped) say nothing about now. */
const STALE_MS = 3 * SAMPLE_INTERVAL_MS;
/**
 * A sample counts as "`minutes` ago" up to half a check early: a check's time is when it ended,
 * so one-minute checks land 59.x s apart as often as 60.x s, and an exact comparison would make a
 * one-minute rule wait for a third bad check (up to three minutes from the fault).
 */
const CHECK_JITTER_MS = SAMPLE_INTERVAL_MS / 2;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** What evaluation needs of a rule: its condition and its state. */
export interface RuleCondition {
  kind: AlertKind;
  minutes: number;
  threshold: number | null;
  device: string | null;
  label: string | null;
}

export interface RuleState {
  state: AlertState;
  firingSince: Date | null;
  lastNotifiedAt: Date | null;
  reNotifyMinutes: number;
  mutedUntil: Date | null;
}

/**
 * A device and its last reading as the processor counts it. `lastReadingAt` undefined: not known;
 * null: none since its creation, or, when `nothingSince` is set, none since then and unknown
 * before (the processor restarted then and forgot).
 */
export interface DeviceActivity {
  name: string;
  labels: Record<string, string>;
  createdAt: Date;
  lastReadingAt?: Date | null;
  nothingSince?: Date;
}

/** A finished backup run of the platform (a run that could not start counts as failed). */
export interface BackupOutcome {
  status: 'succeeded' | 'failed';
  startedAt: Date;
}

/** A certificate of the platform: a device's, the platform CA, the broker's server certificate. */
export interface CertificateExpiry {
  name: string;
  expiresAt: Date;
}

/** What the registry stores besides the samples: judged by the rules that need no time span. */
export interface StoredRecords {
  /** Finished backup runs, newest first. */
  backups: BackupOutcome[];
  certificates: CertificateExpiry[];
}

const NO_RECORDS: StoredRecords = { backups: [], certificates: [] };

/** firing null: nothing to judge by (no recent sample, no counters): the state stays. */
export interface Evaluation {
  firing: boolean | null;
  /** Names and figures only. */
  detail: string;
}

const noData = (detail: string): Evaluation => ({ firing: null, detail });

/** True when the latest samples satisfy `holds` without a break since `minutes` ago. */
function sustained(
  samples: PlatformMetricSample[],
  now: Date,
  minutes: number,
  holds: (sample: PlatformMetricSample) => boolean,
): boolean | null {
  const latest = samples.at(-1);
  if (!latest || now.getTime() - latest.sampledAt.getTime() > STALE_MS) return null;
  if (!holds(latest)) return false;
  const since = now.getTime() - minutes * MINUTE_MS;
  for (let index = samples.length - 1; index >= 0; index -= 1) {
    const sample = samples[index]!;
    if (!holds(sample)) return false;
    if (sample.sampledAt.getTime() <= since + CHECK_JITTER_MS) return true;
  }
  return minutes === 0;
}

/**
 * Judges one rule at `now` from the platform's samples (oldest first, covering at least the
 * rule's minutes) and its devices. Pure: the caller owns the clock.
 */
export function evaluateRule(
  rule: RuleCondition,
  samples: PlatformMetricSample[],
  devices: DeviceActivity[],
  now: Date,
  records: StoredRecords = NO_RECORDS,
): Evaluation {
  const latest = samples.at(-1);
  switch (rule.kind) {
    case 'platform-unhealthy': {
      const firing = sustained(samples, now, rule.minutes, (s) => s.status !== 'healthy');
      if (firing === null) return noData('No recent health check');
      return {
        firing,
        detail: firing
          ? `Platform ${latest!.status} for ${rule.minutes} min or more`
          : `Platform ${latest!.status}`,
      };
    }
    case 'queue-depth': {
      const limit = rule.threshold ?? 0;
      if (latest?.queueDepth === null || latest?.queueDepth === undefined) {
        return noData('Queue depth unknown (the host is read while you are signed in)');
      }
      const firing = sustained(samples, now, rule.minutes, (s) => (s.queueDepth ?? 0) > limit);
      if (firing === null) return noData('No recent health check');
      return { firing, detail: `${latest.queueDepth} messages waiting (limit ${limit})` };
    }
    case 'disk-use': {
      const limit = rule.threshold ?? 0;
      if (latest?.diskUsedPercent === null || latest?.diskUsedPercent === undefined) {
        return noData('Disk use unknown (the host is read while you are signed in)');
      }
      const firing = sustained(
        samples,
        now,
        rule.minutes,
        (s) => s.diskUsedPercent !== null && s.diskUsedPercent >= limit,
      );
      if (firing === null) return noData('No recent health check');
      return { firing, detail: `Data volume ${latest.diskUsedPercent} % full (limit ${limit} %)` };
    }
    case 'dead-letter-rate': {
      const perMinute = deadLettersPerMinute(samples, now, rule.minutes);
      if (perMinute === null) return noData('Dead-letter count unknown');
      const limit = rule.threshold ?? 0;
      return {
        firing: perMinute > limit,
        detail: `${round(perMinute)} dead-lettered messages/min over ${rule.minutes} min (limit ${limit})`,
      };
    }
    case 'device-silent':
      return silentDevices(rule, devices, now);
    case 'backup-failed':
      return failedBackups(records.backups);
    case 'certificate-expiring':
      return expiringCertificates(rule.threshold ?? 0, records.certificates, now);
    case 'reading-threshold':
      // Grafana evaluates these on the platform (alerts/README.md); the monitor skips them.
      return noData('Evaluated by Grafana on the platform');
  }
}

/** Firing while the latest finished backup failed; a later success resolves it. */
function failedBackups(backups: BackupOutcome[]): Evaluation {
  const latest = backups[0];
  if (!latest) return { firing: false, detail: 'No backup run yet' };
  const lastSuccess = backups.findIndex((run) => run.status === 'succeeded');
  const inARow = lastSuccess === -1 ? backups.length : lastSuccess;
  if (inARow === 0) {
    return { firing: false, detail: `Last backup succeeded (${latest.startedAt.toISOString()})` };
  }
  return {
    firing: true,
    detail:
      `${inARow === 1 ? 'Last backup' : `Last ${inARow} backups`} failed ` +
      `(latest started ${latest.startedAt.toISOString()})`,
  };
}

/** Firing while any certificate expires within `days` (or has expired). */
function expiringCertificates(
  days: number,
  certificates: CertificateExpiry[],
  now: Date,
): Evaluation {
  if (certificates.length === 0) return { firing: false, detail: 'No certificates' };
  const limit = now.getTime() + days * DAY_MS;
  const expiring = certificates
    .filter((certificate) => certificate.expiresAt.getTime() <= limit)
    .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
  if (expiring.length === 0) {
    return {
      firing: false,
      detail: `${certificates.length} certificates valid beyond ${days} days`,
    };
  }
  const described = expiring.map(({ name, expiresAt }) => {
    const left = Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS);
    return expiresAt <= now ? `${name} (expired)` : `${name} (in ${left} days)`;
  });
  const shown =
    described.slice(0, 5).join(', ') +
    (described.length > 5 ? ` and ${described.length - 5} more` : '');
  return { firing: true, detail: `Expiring within ${days} days: ${shown}` };
}

/** Over the last `minutes`: the earliest and latest sample of one processor run. */
export function deadLettersPerMinute(
  samples: PlatformMetricSample[],
  now: Date,
  minutes: number,
): number | null {
  const latest = samples.at(-1);
  if (!latest || latest.messagesFailed === null) return null;
  if (now.getTime() - latest.sampledAt.getTime() > STALE_MS) return null;
  const since = now.getTime() - Math.max(minutes, 1) * MINUTE_MS;
  // The window starts at the last sample at or before `since` (else the earliest after it).
  const first =
    samples.findLast((s) => s.sampledAt.getTime() <= since && sameRun(s, latest)) ??
    samples.find((s) => s.sampledAt.getTime() > since && sameRun(s, latest));
  if (!first || first === latest || first.messagesFailed === null) return null;
  const elapsedMinutes = (latest.sampledAt.getTime() - first.sampledAt.getTime()) / MINUTE_MS;
  const failed = latest.messagesFailed - first.messagesFailed;
  return failed < 0 ? null : failed / elapsedMinutes;
}

const sameRun = (a: PlatformMetricSample, b: PlatformMetricSample) =>
  a.processorStartedAt?.getTime() === b.processorStartedAt?.getTime();

const round = (value: number) => Math.round(value * 100) / 100;

function silentDevices(rule: RuleCondition, devices: DeviceActivity[], now: Date): Evaluation {
  const [labelKey, labelValue] = rule.label ? splitLabel(rule.label) : [null, null];
  const watched = devices.filter(
    (d) =>
      (rule.device === null || d.name === rule.device) &&
      (labelKey === null || d.labels[labelKey] === labelValue),
  );
  const since = now.getTime() - rule.minutes * MINUTE_MS;
  const silent: string[] = [];
  let reporting = 0;
  for (const device of watched) {
    const silence = silenceOf(device, since);
    if (silence === 'silent') silent.push(device.name);
    else if (silence === 'reporting') reporting++;
  }
  if (silent.length === 0 && reporting < watched.length) {
    // One that may be silent keeps the rule's state (a firing rule does not resolve on a restart).
    return noData('No reading times known for some of these devices');
  }
  if (silent.length === 0) return { firing: false, detail: `${reporting} devices reporting` };
  const shown =
    silent.slice(0, 5).join(', ') + (silent.length > 5 ? ` and ${silent.length - 5} more` : '');
  return { firing: true, detail: `Silent for ${rule.minutes} min or more: ${shown}` };
}

/** Whether a device sent nothing after `since` (epoch ms), sent something, or is not known. */
function silenceOf(device: DeviceActivity, since: number): 'silent' | 'reporting' | 'unknown' {
  if (device.lastReadingAt === undefined) return 'unknown';
  if (device.lastReadingAt) return device.lastReadingAt.getTime() <= since ? 'silent' : 'reporting';
  if (device.nothingSince) return device.nothingSince.getTime() <= since ? 'silent' : 'unknown';
  return device.createdAt.getTime() <= since ? 'silent' : 'reporting';
}

export function splitLabel(label: string): [string, string] {
  const at = label.indexOf(':');
  return [label.slice(0, at), label.slice(at + 1)];
}

/** The rule's next state, and the event to record (with whether to notify), if any. */
export interface Transition {
  state: RuleState;
  event: { kind: AlertEventKind; notify: boolean } | null;
}

/**
 * Firing/resolved with a re-notify interval and a mute: notifies on firing, again every
 * `reNotifyMinutes` while firing, and on resolving if the firing was notified. While muted,
 * events are recorded but not notified; a firing still on when the mute ends is notified then.
 */
export function nextState(current: RuleState, firing: boolean | null, now: Date): Transition {
  const muted = current.mutedUntil !== null && current.mutedUntil > now;
  if (firing === null) return { state: current, event: null };
  if (firing && current.state === 'ok') {
    return {
      state: {
        ...current,
        state: 'firing',
        firingSince: now,
        lastNotifiedAt: muted ? null : now,
      },
      event: { kind: 'fired', notify: !muted },
    };
  }
  if (firing) {
    const due =
      current.lastNotifiedAt === null ||
      now.getTime() - current.lastNotifiedAt.getTime() >= current.reNotifyMinutes * MINUTE_MS;
    if (muted || !due) return { state: current, event: null };
    return {
      state: { ...current, lastNotifiedAt: now },
      event: { kind: 'renotified', notify: true },
    };
  }
  if (current.state === 'firing') {
    const notify = !muted && current.lastNotifiedAt !== null;
    return {
      state: { ...current, state: 'ok', firingSince: null, lastNotifiedAt: null },
      event: { kind: 'resolved', notify },
    };
  }
  return { state: current, event: null };
}
