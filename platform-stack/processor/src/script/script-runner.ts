import { statSync, unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Reading } from '../contract/reading';
import { Logger, describeError } from '../log/logger';
import type {
  RunBatchRequest,
  ScriptOutcome,
  ScriptRunnerStatus,
  ScriptWorkerData,
  WorkerReply,
} from './script-protocol';

export interface ScriptRunnerOptions {
  scriptPath: string;
  /** Longest a single `process()` call may run (checked every interval, so it may run up to twice this). */
  timeoutMs: number;
  logger: Logger;
  /** The bundled worker entry; next to the bundled main file by default. */
  workerFile?: string;
  maxHeapMb?: number;
}

export class ScriptLoadError extends Error {
  override readonly name = 'ScriptLoadError';
}

interface WorkerListener {
  onReply(reply: WorkerReply): void;
  onFailure(reason: string): void;
}

interface LoadedWorker {
  worker: Worker;
  progress: Int32Array;
  listener?: WorkerListener;
}

type WorkerRunResult =
  | { kind: 'done'; outcomes: ScriptOutcome[] }
  | { kind: 'failed-at'; position: number; reason: string };

/**
 * Runs the user's script over batches of readings in a worker thread. A call that throws yields a
 * failed outcome; a call that hangs or crashes the worker gets the worker replaced, that reading
 * marked failed and the rest of the batch run again on the new worker. It runs inside the
 * sandboxed script host process (see ScriptSandbox), never in the processor itself: the thread
 * only isolates timing and crashes, the process is what keeps the script away from secrets.
 */
export class ScriptRunner {
  private current?: LoadedWorker;
  private batchCounter = 0;
  private reloadPending = false;
  private watching = false;
  private loadedAt = new Date();
  private reloadError?: string;
  private workerRestarts = 0;

  private constructor(private readonly options: ScriptRunnerOptions) {}

  static async start(options: ScriptRunnerOptions): Promise<ScriptRunner> {
    const runner = new ScriptRunner(options);
    runner.current = await runner.loadWorker();
    return runner;
  }

  status(): ScriptRunnerStatus {
    return {
      scriptPath: this.options.scriptPath,
      loadedAt: this.loadedAt.toISOString(),
      reloadError: this.reloadError,
      workerRestarts: this.workerRestarts,
    };
  }

  /** Hot reload: a changed script file is loaded before the next batch runs. */
  watch(intervalMs = 500): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(
      this.options.scriptPath,
      { interval: intervalMs, persistent: false },
      (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) this.reloadPending = true;
      },
    );
  }

  async run(readings: Reading[]): Promise<ScriptOutcome[]> {
    if (this.reloadPending) await this.reload();
    const outcomes: ScriptOutcome[] = new Array<ScriptOutcome>(readings.length);
    let pending = readings.map((_, index) => index);
    while (pending.length > 0) {
      const result = await this.runOnWorker(pending.map((index) => readings[index]));
      if (result.kind === 'done') {
        result.outcomes.forEach((outcome, position) => (outcomes[pending[position]] = outcome));
        break;
      }
      outcomes[pending[result.position]] = { ok: false, reason: result.reason };
      pending = pending.filter((_, position) => position !== result.position);
      await this.replaceWorker();
    }
    return outcomes;
  }

  async close(): Promise<void> {
    if (this.watching) unwatchFile(this.options.scriptPath);
    await this.terminate(this.current);
    this.current = undefined;
  }

  private async reload(): Promise<void> {
    this.reloadPending = false;
    try {
      const next = await this.loadWorker();
      const previous = this.current;
      this.current = next;
      this.loadedAt = new Date();
      this.reloadError = undefined;
      await this.terminate(previous);
      this.options.logger.info('script reloaded', { scriptPath: this.options.scriptPath });
    } catch (error) {
      this.reloadError = describeError(error);
      this.options.logger.error('script reload failed; the previous version keeps running', {
        reason: this.reloadError,
      });
    }
  }

  private async replaceWorker(): Promise<void> {
    this.workerRestarts++;
    await this.terminate(this.current);
    this.current = undefined;
    this.current = await this.loadWorker();
  }

  private async terminate(loaded: LoadedWorker | undefined): Promise<void> {
    if (!loaded) return;
    loaded.listener = undefined;
    await loaded.worker.terminate();
  }

  /**
   * Starts a worker on the current script file. Each worker has one permanent listener per event
   * that forwards to whoever currently waits on it (loading, or one batch).
   */
  private loadWorker(): Promise<LoadedWorker> {
    statSync(this.options.scriptPath); // a missing file fails here with a clear ENOENT
    const progressBuffer = new SharedArrayBuffer(4);
    const data: ScriptWorkerData = {
      scriptPath: this.options.scriptPath,
      progress: progressBuffer,
    };
    const worker = new Worker(
      this.options.workerFile ?? path.join(__dirname, 'script-worker.cjs'),
      {
        workerData: data,
        resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 256 },
        stdout: false,
        stderr: false,
      },
    );
    const loaded: LoadedWorker = { worker, progress: new Int32Array(progressBuffer) };
    worker.on('message', (reply: WorkerReply) => loaded.listener?.onReply(reply));
    worker.on('error', (error) => loaded.listener?.onFailure(describeError(error)));
    worker.on('exit', (code) => loaded.listener?.onFailure(`exit code ${code}`));
    return new Promise<LoadedWorker>((resolve, reject) => {
      const loadTimeoutMs = Math.max(this.options.timeoutMs * 5, 10_000);
      const fail = (reason: string) => {
        clearTimeout(timer);
        loaded.listener = undefined;
        void worker.terminate();
        reject(new ScriptLoadError(reason));
      };
      const timer = setTimeout(
        () => fail(`loading the script took longer than ${loadTimeoutMs} ms`),
        loadTimeoutMs,
      );
      loaded.listener = {
        onReply: (reply) => {
          if (reply.type === 'load-failed') return fail(reply.reason);
          if (reply.type !== 'loaded') return;
          clearTimeout(timer);
          loaded.listener = undefined;
          resolve(loaded);
        },
        onFailure: (reason) => fail(`the script worker stopped while loading: ${reason}`),
      };
    });
  }

  private runOnWorker(readings: Reading[]): Promise<WorkerRunResult> {
    const loaded = this.current;
    if (!loaded) return Promise.reject(new Error('the script runner is closed'));
    const batchId = ++this.batchCounter;
    const { progress } = loaded;
    return new Promise<WorkerRunResult>((resolve) => {
      let lastSeen = -1;
      const finish = (result: WorkerRunResult) => {
        clearInterval(watchdog);
        loaded.listener = undefined;
        resolve(result);
      };
      // The worker marks which reading it is on; the same mark on two ticks means a call ran too long.
      const watchdog = setInterval(() => {
        const mark = Atomics.load(progress, 0);
        if (mark !== 0 && mark === lastSeen) {
          finish({
            kind: 'failed-at',
            position: mark - 1,
            reason: `script did not finish within ${this.options.timeoutMs} ms`,
          });
        }
        lastSeen = mark;
      }, this.options.timeoutMs);
      loaded.listener = {
        onReply: (reply) => {
          if (reply.type === 'results' && reply.batchId === batchId) {
            finish({ kind: 'done', outcomes: reply.outcomes });
          }
        },
        onFailure: (reason) => {
          const mark = Atomics.load(progress, 0);
          finish({
            kind: 'failed-at',
            position: Math.max(mark - 1, 0),
            reason: `script crashed its worker: ${reason}`,
          });
        },
      };
      const request: RunBatchRequest = { type: 'run', batchId, readings };
      loaded.worker.postMessage(request);
    });
  }
}
