import type { Schemas } from '../../api/client';

export type Platform = Schemas['PlatformDto'];
export type PlatformStatus = Platform['status'];
export type Target = Platform['target'];
export type Database = Platform['database'];

export const STATUS_LABELS: Record<PlatformStatus, string> = {
  queued: 'Queued',
  provisioning_infra: 'Creating the VM',
  waiting_for_host: 'Waiting for the host',
  configuring: 'Configuring',
  verifying: 'Verifying',
  running: 'Running',
  updating: 'Updating',
  destroying: 'Destroying',
  destroyed: 'Destroyed',
  failed: 'Failed',
};

export const TARGET_LABELS: Record<Target, string> = {
  aws: 'AWS',
  gcp: 'Google Cloud',
  openstack: 'OpenStack',
  'ssh-host': 'SSH host',
};

export const DATABASE_LABELS: Record<Database, string> = {
  postgres: 'PostgreSQL',
  timescaledb: 'TimescaleDB',
  influxdb: 'InfluxDB 1.x',
  mongodb: 'MongoDB',
};

/** PrimeVue Tag severities. */
export function statusSeverity(status: PlatformStatus): string {
  if (status === 'running') return 'success';
  if (status === 'failed') return 'danger';
  if (status === 'destroyed') return 'secondary';
  return 'info';
}

export function healthSeverity(health: Platform['health']): string {
  if (!health) return 'secondary';
  return { healthy: 'success', degraded: 'warn', unreachable: 'danger' }[health.status];
}

/** A deployment is (or is about to be) working on the platform. */
export function isBusy(status: PlatformStatus): boolean {
  return !['running', 'failed', 'destroyed'].includes(status);
}

export type StepState = 'done' | 'current' | 'failed' | 'todo' | 'skipped';
export interface TimelineStep {
  key: string;
  label: string;
  state: StepState;
}

const LAUNCH: PlatformStatus[] = [
  'queued',
  'provisioning_infra',
  'waiting_for_host',
  'configuring',
  'verifying',
  'running',
];

/**
 * The lifecycle (DESIGN §5) as steps for the platform page: queued → … → running while
 * launching; running → updating → running for a processor update; destroying → destroyed at the
 * end. A failure marks the step it happened in (where a retry resumes).
 */
export function timelineSteps(
  platform: Pick<Platform, 'status' | 'failedStep' | 'target'>,
): TimelineStep[] {
  const { status, target } = platform;
  const at = status === 'failed' ? (platform.failedStep as PlatformStatus | null) : status;
  const steps: PlatformStatus[] =
    at === 'updating'
      ? ['running', 'updating', 'running']
      : at === 'destroying' || at === 'destroyed'
        ? ['destroying', 'destroyed']
        : LAUNCH;
  const position = at ? steps.indexOf(at) : -1;
  return steps.map((key, index) => {
    if (key === 'provisioning_infra' && target === 'ssh-host') {
      return { key: `${index}-${key}`, label: 'No VM to create', state: 'skipped' };
    }
    let state: StepState = index < position ? 'done' : 'todo';
    if (index === position) {
      if (status === 'failed') state = 'failed';
      else if (status === 'running' || status === 'destroyed') state = 'done';
      else state = 'current';
    }
    return { key: `${index}-${key}`, label: STATUS_LABELS[key], state };
  });
}

/** The launch steps a failure can stop at (the API's LAUNCH_STEPS). */
const LAUNCH_STEPS: readonly string[] = [
  'provisioning_infra',
  'waiting_for_host',
  'configuring',
  'verifying',
];

/** The launch failed: the API stores a new script and resumes the launch with it. */
export function launchFailed(platform: Pick<Platform, 'status' | 'failedStep'>): boolean {
  return platform.status === 'failed' && LAUNCH_STEPS.includes(platform.failedStep ?? '');
}

const stepName = (step: string | null | undefined) =>
  STATUS_LABELS[step as PlatformStatus]?.toLowerCase() ?? 'a step';

/**
 * Why the processor's script cannot be sent now, in the user's terms; '' when it can: running,
 * failed at updating (a fixed script may be sent again), or failed during the launch (the script
 * is stored and the launch resumes). Mirrors the API's processorScriptChange.
 */
export function updateBlockedReason(platform: Pick<Platform, 'status' | 'failedStep'>): string {
  const { status, failedStep } = platform;
  if (status === 'running' || launchFailed(platform)) return '';
  if (status === 'failed') {
    return failedStep === 'updating'
      ? ''
      : 'Destroying failed: retry the destroy (nothing runs to update).';
  }
  if (status === 'updating') return 'An update is running: wait for it to finish.';
  if (status === 'destroying' || status === 'destroyed') {
    return 'The platform is destroyed (or being destroyed): nothing runs to update.';
  }
  return 'The platform is still launching: updates are possible once it runs.';
}

/**
 * On a failed launch: why it failed (the failed deployment's error, e.g. the script that does not
 * load) and what saving the script does; '' otherwise.
 */
export function failedLaunchHint(
  platform: Pick<Platform, 'status' | 'failedStep'>,
  failure: string | null | undefined,
): string {
  if (!launchFailed(platform)) return '';
  const why = failure ? `: ${failure}` : '.';
  return `The launch failed at ${stepName(platform.failedStep)}${why} Save script and retry stores this script and resumes the launch where it stopped.`;
}
