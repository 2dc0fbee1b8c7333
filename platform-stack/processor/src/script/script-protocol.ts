import type { Reading } from '../contract/reading';

/** Messages between the ScriptRunner (the script host's main thread) and the script worker thread. */
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

/** How the processor starts its script host (passed as argv: the host's environment is empty). */
export interface ScriptHostOptions {
  scriptPath: string;
  timeoutMs: number;
  maxHeapMb: number;
  /** File-watch interval for hot reload. */
  watchIntervalMs: number;
}

export interface ScriptRunnerStatus {
  scriptPath: string;
  loadedAt: string;
  /** Last failed reload: the previous version keeps running. */
  reloadError?: string;
  workerRestarts: number;
}

/**
 * Messages between the processor (ScriptSandbox) and its sandboxed script host process, one JSON
 * line each (line-channel.ts). The batch id is a random UUID: the script's thread shares the
 * host's file descriptors and could write to the channel, but cannot guess which id to answer.
 */
export interface HostRunRequest {
  type: 'run';
  batchId: string;
  readings: Reading[];
}

export type HostRequest = HostRunRequest;

export type HostReply =
  | { type: 'loaded'; status: ScriptRunnerStatus }
  | { type: 'load-failed'; reason: string }
  | { type: 'results'; batchId: string; outcomes: ScriptOutcome[]; status: ScriptRunnerStatus };
