import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/** DESIGN §5. Every status change of a platform goes through `transition` below. */
export const PLATFORM_STATUSES = [
  'queued',
  'provisioning_infra',
  'waiting_for_host',
  'configuring',
  'verifying',
  'running',
  'updating',
  'destroying',
  'destroyed',
  'failed',
] as const;
export type PlatformStatus = (typeof PLATFORM_STATUSES)[number];

/** Steps a failure can happen in, and so where a retry resumes. */
export type PlatformStep = Exclude<PlatformStatus, 'queued' | 'running' | 'destroyed' | 'failed'>;

/** A launch's steps in order; a failed launch resumes at its failed one. */
export const LAUNCH_STEPS: readonly PlatformStep[] = [
  'provisioning_infra',
  'waiting_for_host',
  'configuring',
  'verifying',
];

const NEXT: Record<PlatformStatus, readonly PlatformStatus[]> = {
  // ssh-host targets have no infrastructure to create and go straight to waiting_for_host.
  queued: ['provisioning_infra', 'waiting_for_host', 'destroying'],
  provisioning_infra: ['waiting_for_host'],
  waiting_for_host: ['configuring'],
  configuring: ['verifying'],
  verifying: ['running'],
  running: ['updating', 'destroying'],
  updating: ['running'],
  destroying: ['destroyed'],
  destroyed: [],
  failed: ['destroying'],
};

export interface PlatformState {
  status: PlatformStatus;
  /** Set while `failed`: the step that failed, where a retry resumes. */
  failedStep: PlatformStep | null;
}

export class IllegalTransitionError extends ApiError {
  constructor(from: PlatformStatus, to: PlatformStatus) {
    super(
      HttpStatus.CONFLICT,
      'ILLEGAL_TRANSITION',
      `A platform that is ${from.replace('_', ' ')} cannot go to ${to.replace('_', ' ')}`,
      { from, to },
    );
  }
}

export function canTransition(state: PlatformState, to: PlatformStatus): boolean {
  if (to === 'failed') return isStep(state.status);
  if (state.status === 'failed' && to === state.failedStep) return true;
  return NEXT[state.status].includes(to);
}

/** The state after moving to `to`; throws a 409 IllegalTransitionError when not allowed. */
export function transition(state: PlatformState, to: PlatformStatus): PlatformState {
  if (!canTransition(state, to)) throw new IllegalTransitionError(state.status, to);
  if (to === 'failed') return { status: 'failed', failedStep: state.status as PlatformStep };
  return { status: to, failedStep: null };
}

/** 409: the operation needs a failed platform. */
export function notFailed(): ApiError {
  return new ApiError(HttpStatus.CONFLICT, 'NOT_FAILED', 'Only a failed platform can be retried');
}

/** Where a retry of a failed platform resumes (every step is idempotent). */
export function retryStep(state: PlatformState): PlatformStep {
  if (state.status !== 'failed' || !state.failedStep) throw notFailed();
  return state.failedStep;
}

/** What a new processor script does to a platform in a given state. */
export type ProcessorScriptChange = { kind: 'update' } | { kind: 'relaunch'; from: PlatformStep };

/**
 * `update` deploys the script to the stack (a running platform, or one failed at updating).
 * `relaunch` stores it and resumes a failed launch at `from`: configuring at the latest, the step
 * that installs the script (a stack that never came up needs no update). 409 in every other state
 * (a launch in progress, destroying, destroyed, failed at destroying).
 */
export function processorScriptChange(state: PlatformState): ProcessorScriptChange {
  if (canTransition(state, 'updating')) return { kind: 'update' };
  const failedStep = state.status === 'failed' ? state.failedStep : null;
  if (failedStep && LAUNCH_STEPS.includes(failedStep)) {
    const configuring = LAUNCH_STEPS.indexOf('configuring');
    return {
      kind: 'relaunch',
      from: LAUNCH_STEPS[Math.min(LAUNCH_STEPS.indexOf(failedStep), configuring)],
    };
  }
  throw new IllegalTransitionError(state.status, 'updating');
}

export function isStep(status: PlatformStatus): status is PlatformStep {
  return !['queued', 'running', 'destroyed', 'failed'].includes(status);
}
