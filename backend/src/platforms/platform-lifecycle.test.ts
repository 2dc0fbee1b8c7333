import { describe, expect, it } from 'vitest';
import {
  canTransition,
  IllegalTransitionError,
  PLATFORM_STATUSES,
  processorScriptChange,
  retryStep,
  transition,
  type PlatformState,
  type PlatformStatus,
  type PlatformStep,
} from './platform-lifecycle';

const at = (status: PlatformStatus): PlatformState => ({ status, failedStep: null });

describe('platform lifecycle', () => {
  it('walks a cloud launch, an update and a destroy', () => {
    const path: PlatformStatus[] = [
      'provisioning_infra',
      'waiting_for_host',
      'configuring',
      'verifying',
      'running',
      'updating',
      'running',
      'destroying',
      'destroyed',
    ];
    let state = at('queued');
    for (const next of path) state = transition(state, next);
    expect(state).toEqual({ status: 'destroyed', failedStep: null });
  });

  it('lets ssh-host launches skip infrastructure', () => {
    expect(transition(at('queued'), 'waiting_for_host').status).toBe('waiting_for_host');
  });

  it('fails from any step, remembers it, and retries exactly there', () => {
    for (const step of [
      'provisioning_infra',
      'waiting_for_host',
      'configuring',
      'verifying',
      'updating',
      'destroying',
    ] as const) {
      const failed = transition(at(step), 'failed');
      expect(failed).toEqual({ status: 'failed', failedStep: step });
      expect(retryStep(failed)).toBe(step);
      expect(transition(failed, step)).toEqual({ status: step, failedStep: null });
      const other = PLATFORM_STATUSES.filter(
        (status) => status !== step && status !== 'destroying',
      );
      for (const status of other)
        expect(canTransition(failed, status), `${step} → failed → ${status}`).toBe(false);
      expect(transition(failed, 'destroying').status).toBe('destroying');
    }
  });

  it('updates a running stack, stores a failed launch’s script, and refuses the rest', () => {
    const failedAt = (step: PlatformStep): PlatformState => ({
      status: 'failed',
      failedStep: step,
    });
    expect(processorScriptChange(at('running'))).toEqual({ kind: 'update' });
    expect(processorScriptChange(failedAt('updating'))).toEqual({ kind: 'update' });
    expect(processorScriptChange(failedAt('provisioning_infra'))).toEqual({
      kind: 'relaunch',
      from: 'provisioning_infra',
    });
    expect(processorScriptChange(failedAt('configuring'))).toEqual({
      kind: 'relaunch',
      from: 'configuring',
    });
    // Verifying ran on the stack with the old script: the resumed launch installs the new one.
    expect(processorScriptChange(failedAt('verifying'))).toEqual({
      kind: 'relaunch',
      from: 'configuring',
    });
    const refused: PlatformState[] = [
      ...PLATFORM_STATUSES.filter((status) => !['running', 'failed'].includes(status)).map(at),
      failedAt('destroying'),
    ];
    for (const state of refused) {
      expect(() => processorScriptChange(state), JSON.stringify(state)).toThrow(
        IllegalTransitionError,
      );
    }
  });

  it('rejects illegal transitions with a 409 naming both states', () => {
    const attempt = () => transition(at('provisioning_infra'), 'running');
    expect(attempt).toThrow(IllegalTransitionError);
    expect(attempt).toThrow('A platform that is provisioning infra cannot go to running');
    try {
      attempt();
    } catch (error) {
      expect((error as IllegalTransitionError).getStatus()).toBe(409);
    }
    for (const status of PLATFORM_STATUSES)
      expect(canTransition(at('destroyed'), status)).toBe(false);
    for (const status of ['queued', 'running', 'destroyed', 'failed'] as const) {
      expect(canTransition(at(status), 'failed')).toBe(false);
    }
    expect(() => retryStep(at('running'))).toThrow('Only a failed platform can be retried');
  });
});
