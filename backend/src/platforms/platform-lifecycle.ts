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

/** Where a retry of a failed platform resumes (every step is idempotent). */
export function retryStep(state: PlatformState): PlatformStep {
  if (state.status !== 'failed' || !state.failedStep) {
    throw new ApiError(HttpStatus.CONFLICT, 'NOT_FAILED', 'Only a failed platform can be retried');
  }
  return state.failedStep;
}

export function isStep(status: PlatformStatus): status is PlatformStep {
  return !['queued', 'running', 'destroyed', 'failed'].includes(status);
}
