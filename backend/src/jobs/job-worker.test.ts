import { describe, expect, it } from 'vitest';
import { ALL_JOB_NAMES, JobName } from './job-names';
import { assertEveryJobHandled } from './job-worker.service';

describe('the worker start-up check', () => {
  it('passes when every job name has a handler', () => {
    expect(() => assertEveryJobHandled(ALL_JOB_NAMES)).not.toThrow();
  });

  it('stops start-up naming each job that has no handler', () => {
    const handled = ALL_JOB_NAMES.filter(
      (name) => name !== JobName.PlatformDump && name !== JobName.SpaceDelete,
    );
    expect(() => assertEveryJobHandled(handled)).toThrow(
      'No handler for job "platform.dump", "space.delete": add an @OnJob method for it to a provider the worker loads',
    );
  });
});
