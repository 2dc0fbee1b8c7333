import type { JobName, JobPayloads } from './job-names';

/** The queues Fieldstation uses. Payloads carry ids only: never a secret (DESIGN §4). */
export enum QueueName {
  Deployments = 'deployments',
}

/** A queued job: one of the names in `job-names.ts` and that name's payload. */
export interface JobRequest<Name extends JobName = JobName> {
  name: Name;
  data: JobPayloads[Name];
  /** Deterministic ids make a repeated request a no-op instead of a duplicate job. */
  jobId?: string;
}

export type ProcessRole = 'all' | 'api' | 'worker';
