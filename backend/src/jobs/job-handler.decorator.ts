import { SetMetadata } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { JobName, JobPayloads } from './job-names';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

/** What a handler of `Name` receives: the typed payload and the BullMQ job carrying it. */
export type JobHandler<Name extends JobName> = (
  data: JobPayloads[Name],
  job: Job<JobPayloads[Name], unknown, Name>,
) => Promise<unknown>;

/**
 * Marks a provider method as the handler of one job name; the worker discovers it at start.
 * The method's parameters are checked against the name's payload type.
 */
export function OnJob<Name extends JobName>(name: Name) {
  return <Method extends JobHandler<Name>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<Method>,
  ): void => {
    SetMetadata(JOB_HANDLER, name)(target, key, descriptor);
  };
}
