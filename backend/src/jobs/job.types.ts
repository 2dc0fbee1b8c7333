/** The queues Fieldstation uses. Payloads carry ids only: never a secret (DESIGN §4). */
export enum QueueName {
  Deployments = 'deployments',
}

/** A queued job: a name and a small, id-only payload. Each domain adds its job names. */
export interface JobRequest<Name extends string = string, Data = Record<string, string>> {
  name: Name;
  data: Data;
  /** Deterministic ids make a repeated request a no-op instead of a duplicate job. */
  jobId?: string;
}

export type ProcessRole = 'all' | 'api' | 'worker';
