import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5000 };

/** Calls `attempt` until it succeeds, waiting longer after each failure (capped). */
export async function retryUntilSuccess<T>(
  attempt: () => Promise<T>,
  onFailure: (error: unknown, attemptNumber: number, nextDelayMs: number) => void,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
): Promise<T> {
  let delay = backoff.initialMs;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt();
    } catch (error) {
      onFailure(error, attemptNumber, delay);
      await sleep(delay);
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }
}
