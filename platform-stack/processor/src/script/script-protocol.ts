import type { Reading } from '../contract/reading';

/** Messages between the ScriptSandbox (main thread) and the script worker thread. */
export interface ScriptWorkerData {
  scriptPath: string;
  /** progress[0] = index + 1 of the reading the script is working on, 0 when idle. */
  progress: SharedArrayBuffer;
}

export interface RunBatchRequest {
  type: 'run';
  batchId: number;
  readings: Reading[];
}

export type ScriptOutcome = { ok: true; readings: Reading[] } | { ok: false; reason: string };

export type WorkerReply =
  | { type: 'loaded' }
  | { type: 'load-failed'; reason: string }
  | { type: 'results'; batchId: number; outcomes: ScriptOutcome[] };
