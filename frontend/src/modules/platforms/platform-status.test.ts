import { describe, expect, it } from 'vitest';
import {
  failedLaunchHint,
  launchFailed,
  timelineSteps,
  updateBlockedReason,
} from './platform-status';

const states = (...args: Parameters<typeof timelineSteps>) =>
  timelineSteps(...args).map((step) => `${step.label}:${step.state}`);

describe('timelineSteps', () => {
  it('marks the current launch step and skips the VM for ssh hosts', () => {
    expect(states({ status: 'configuring', failedStep: null, target: 'ssh-host' })).toEqual([
      'Queued:done',
      'No VM to create:skipped',
      'Waiting for the host:done',
      'Configuring:current',
      'Verifying:todo',
      'Running:todo',
    ]);
  });

  it('marks the failed step', () => {
    expect(states({ status: 'failed', failedStep: 'waiting_for_host', target: 'aws' })).toEqual([
      'Queued:done',
      'Creating the VM:done',
      'Waiting for the host:failed',
      'Configuring:todo',
      'Verifying:todo',
      'Running:todo',
    ]);
  });

  it('shows a running platform as done, an update and a destroy as their own steps', () => {
    expect(states({ status: 'running', failedStep: null, target: 'gcp' }).at(-1)).toBe(
      'Running:done',
    );
    expect(states({ status: 'updating', failedStep: null, target: 'gcp' })).toEqual([
      'Running:done',
      'Updating:current',
      'Running:todo',
    ]);
    expect(states({ status: 'destroyed', failedStep: null, target: 'gcp' })).toEqual([
      'Destroying:done',
      'Destroyed:done',
    ]);
  });
});

describe('updateBlockedReason', () => {
  it('lets a running platform, one failed at updating and a failed launch take a script', () => {
    expect(updateBlockedReason({ status: 'running', failedStep: null })).toBe('');
    expect(updateBlockedReason({ status: 'failed', failedStep: 'updating' })).toBe('');
    for (const failedStep of ['waiting_for_host', 'configuring', 'verifying'] as const) {
      expect(updateBlockedReason({ status: 'failed', failedStep })).toBe('');
      expect(launchFailed({ status: 'failed', failedStep })).toBe(true);
    }
    expect(launchFailed({ status: 'failed', failedStep: 'updating' })).toBe(false);
  });

  it('says the real reason otherwise', () => {
    expect(updateBlockedReason({ status: 'failed', failedStep: 'destroying' })).toBe(
      'Destroying failed: retry the destroy (nothing runs to update).',
    );
    expect(updateBlockedReason({ status: 'updating', failedStep: null })).toMatch(/wait for it/);
    expect(updateBlockedReason({ status: 'destroyed', failedStep: null })).toMatch(/destroyed/);
    expect(updateBlockedReason({ status: 'verifying', failedStep: null })).toMatch(/launching/);
  });
});

describe('failedLaunchHint', () => {
  it('names the failed step and the deployment’s error, and what saving does', () => {
    const failed = { status: 'failed', failedStep: 'configuring' } as const;
    expect(failedLaunchHint(failed, 'The script does not load: broken on purpose.')).toBe(
      'The launch failed at configuring: The script does not load: broken on purpose. ' +
        'Save script and retry stores this script and resumes the launch where it stopped.',
    );
    expect(failedLaunchHint(failed, null)).toMatch(/^The launch failed at configuring\. Save/);
    expect(failedLaunchHint({ status: 'failed', failedStep: 'updating' }, 'x')).toBe('');
    expect(failedLaunchHint({ status: 'running', failedStep: null }, null)).toBe('');
  });
});
