import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { validateReading, type Reading } from '../contract/reading';
import { Logger, describeError } from '../log/logger';
import { forEachOutputLine } from '../debugging/output-lines';
import { encodeLine, readLines } from './line-channel';
import { PERL, SECCOMP_EXEC_PERL } from './seccomp-exec';
import type {
  HostReply,
  HostRequest,
  ScriptHostOptions,
  ScriptOutcome,
  ScriptRunnerStatus,
} from './script-protocol';
import { ScriptLoadError } from './script-runner';

export { ScriptLoadError };

export interface ScriptSandboxOptions {
  scriptPath: string;
  /** Longest a single `process()` call may run (checked every interval, so it may run up to twice this). */
  timeoutMs: number;
  logger: Logger;
  /** The bundled host entry; next to the bundled main file by default (script-worker.cjs beside it). */
  hostFile?: string;
  maxHeapMb?: number;
  /** Hot reload: the host polls the script file this often and loads a changed version before the next batch. */
  watchIntervalMs?: number;
  /**
   * Longest a whole batch may take in the host, whatever the script does to the per-call time
   * limit: then the host is killed, the batch's readings fail and the next batch gets a new host.
   */
  batchTimeoutMs?: number;
  /** Longest line the host may send; a longer one gets the host killed before it is buffered. */
  maxReplyBytes?: number;
  /**
   * Each line the host writes to stdout (the script's `ctx.log`, `console.log`, the host's own
   * messages), cut to 16 KiB. Without it they go to the processor's stdout unchanged.
   */
  onOutput?: (line: string) => void;
}

const MAX_OUTPUT_LINE_BYTES = 16 * 1024;

const DEFAULT_BATCH_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024;

export interface ScriptStatus extends ScriptRunnerStatus {
  /** Times the script host process was replaced after it stopped unexpectedly. */
  hostRestarts: number;
}

interface PendingBatch {
  batchId: string;
  resolve(outcomes: ScriptOutcome[]): void;
  reject(error: Error): void;
}

interface Host {
  child: ChildProcess;
  channel: Writable;
  pending?: PendingBatch;
  exited: boolean;
}

class HostStoppedError extends Error {
  override readonly name = 'HostStoppedError';
}

class BatchDeadlineError extends Error {
  override readonly name = 'BatchDeadlineError';
}

/** Runs of one batch on fresh hosts before its readings are dead-lettered as the host's victims. */
const HOST_ATTEMPTS_PER_BATCH = 2;

/**
 * Runs the user's script (and every npm package it imports) in a separate process, the script
 * host, which cannot reach the processor's secrets or the machine:
 * - its environment is empty (the database and broker URLs stay in the processor);
 * - Node's permission model (`--experimental-permission`) lets it read only the script's
 *   directory, the `node_modules` directories its imports resolve from and the host's own two
 *   bundle files; it may write nothing, start no process, load no native add-on, use no WASI and
 *   open no inspector (`process.binding` is refused too);
 * - worker threads are allowed for the host's own use (the ScriptRunner's time limit needs one);
 *   inside the script's thread, network access, DNS, new threads, loader hooks and signals to
 *   other processes are disabled before the script loads (lockdown.ts), which Node 20's
 *   permission model does not cover;
 * - a seccomp filter (seccomp-exec.ts), installed before Node starts, makes the kernel refuse
 *   socket(2) to the whole host: no TCP, UDP, raw or netlink socket, whatever path the script
 *   finds to a native handle. Its channel to the processor is a pipe it inherits.
 * Hangs and crashes of single calls are handled inside the host (ScriptRunner); a host that stops
 * is replaced and its batch run again, and a batch that stops two hosts is dead-lettered. A batch
 * that outlives `batchTimeoutMs` gets its host killed and its readings failed. Everything the
 * host sends is untrusted: capped in size, JSON only, exactly one reply per batch id.
 */
export class ScriptSandbox {
  private host?: Host;
  private runnerStatus: ScriptRunnerStatus;
  private hostRestarts = 0;
  private closed = false;

  private constructor(private readonly options: ScriptSandboxOptions) {
    this.runnerStatus = {
      scriptPath: options.scriptPath,
      loadedAt: new Date().toISOString(),
      workerRestarts: 0,
    };
  }

  static async start(options: ScriptSandboxOptions): Promise<ScriptSandbox> {
    const sandbox = new ScriptSandbox(options);
    sandbox.host = await sandbox.startHost();
    return sandbox;
  }

  status(): ScriptStatus {
    return { ...this.runnerStatus, hostRestarts: this.hostRestarts };
  }

  async run(readings: Reading[]): Promise<ScriptOutcome[]> {
    let lastReason = '';
    for (let attempt = 1; attempt <= HOST_ATTEMPTS_PER_BATCH; attempt++) {
      if (!this.host || this.host.exited) {
        if (this.host) this.hostRestarts++;
        this.host = await this.startHost();
      }
      try {
        return await this.runOnHost(this.host, readings);
      } catch (error) {
        // Not run again: a second attempt would stall ingestion as long again.
        if (error instanceof BatchDeadlineError) {
          this.options.logger.error('a script batch ran out of time; its host was killed', {
            reason: error.message,
          });
          return readings.map(() => ({ ok: false, reason: error.message }));
        }
        if (!(error instanceof HostStoppedError)) throw error;
        lastReason = error.message;
        this.options.logger.error('the script host stopped; running the batch on a new one', {
          reason: lastReason,
        });
      }
    }
    return readings.map(() => ({ ok: false, reason: `script host stopped: ${lastReason}` }));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.host) await this.stopHost(this.host);
    this.host = undefined;
  }

  private runOnHost(host: Host, readings: Reading[]): Promise<ScriptOutcome[]> {
    const batchId = randomUUID();
    const timeoutMs = this.options.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<ScriptOutcome[]>((resolve, reject) => {
      host.pending = { batchId, resolve, reject };
      timer = setTimeout(() => {
        host.pending = undefined;
        host.exited = true;
        host.child.kill('SIGKILL');
        reject(new BatchDeadlineError(`script batch did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const request: HostRequest = { type: 'run', batchId, readings };
      host.channel.write(encodeLine(request));
    })
      .finally(() => clearTimeout(timer))
      .then((outcomes) => checkOutcomes(outcomes, readings.length));
  }

  private startHost(): Promise<Host> {
    if (this.closed) return Promise.reject(new Error('the script sandbox is closed'));
    const { scriptPath } = this.options;
    statSync(scriptPath); // a missing file fails here with a clear ENOENT
    const hostFile = this.options.hostFile ?? path.join(__dirname, 'script-host.cjs');
    const hostOptions: ScriptHostOptions = {
      scriptPath: realpathSync(scriptPath),
      timeoutMs: this.options.timeoutMs,
      maxHeapMb: this.options.maxHeapMb ?? 256,
      watchIntervalMs: this.options.watchIntervalMs ?? 500,
    };
    const nodeArgs = [
      '--experimental-permission',
      ...readablePaths(hostFile, hostOptions.scriptPath).map((p) => `--allow-fs-read=${p}`),
      '--allow-worker',
      // Known and documented above; stderr stays for the script's own problems.
      '--disable-warning=ExperimentalWarning',
      '--disable-warning=SecurityWarning',
      hostFile,
      JSON.stringify(hostOptions),
    ];
    // perl (perl-base is part of every Debian image) installs the filter, then execs Node.
    const child = spawn(PERL, ['-e', SECCOMP_EXEC_PERL, process.execPath, ...nodeArgs], {
      env: {},
      cwd: path.dirname(hostOptions.scriptPath),
      stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    });
    const onOutput = this.options.onOutput ?? ((line) => process.stdout.write(`${line}\n`));
    forEachOutputLine(child.stdout!, MAX_OUTPUT_LINE_BYTES, onOutput);
    const channel = child.stdio[3] as Readable & Writable;
    channel.on('error', () => child.kill('SIGKILL'));
    const host: Host = { child, channel, exited: false };
    return new Promise<Host>((resolve, reject) => {
      let loaded = false;
      const loadTimeoutMs = Math.max(this.options.timeoutMs * 5, 15_000);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new ScriptLoadError(`loading the script took longer than ${loadTimeoutMs} ms`));
      }, loadTimeoutMs);
      // Anything the protocol does not expect ends the host: its batch is run again or dead-lettered.
      const violation = (what: string) => {
        this.options.logger.error('the script host broke the protocol; killing it', { what });
        this.onHostStopped(host, `protocol violation: ${what}`);
        child.kill('SIGKILL');
      };
      const onReply = (reply: HostReply) => {
        if (!loaded && reply.type === 'loaded') {
          loaded = true;
          clearTimeout(timer);
          this.runnerStatus = checkStatus(reply.status, this.runnerStatus);
          resolve(host);
        } else if (!loaded && reply.type === 'load-failed') {
          clearTimeout(timer);
          child.kill('SIGKILL');
          reject(new ScriptLoadError(String(reply.reason)));
        } else if (
          loaded &&
          reply.type === 'results' &&
          host.pending !== undefined &&
          reply.batchId === host.pending.batchId
        ) {
          this.runnerStatus = checkStatus(reply.status, this.runnerStatus);
          const { resolve: done } = host.pending;
          host.pending = undefined;
          done(reply.outcomes);
        } else {
          violation(`unexpected message ${JSON.stringify(reply).slice(0, 200)}`);
        }
      };
      const maxReplyBytes = this.options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
      readLines(
        channel,
        maxReplyBytes,
        (line) => {
          let reply: unknown;
          try {
            reply = JSON.parse(line);
          } catch {
            return violation('a line that is not JSON');
          }
          if (typeof reply !== 'object' || reply === null) return violation('a non-object');
          onReply(reply as HostReply);
        },
        () => violation(`a message longer than ${maxReplyBytes} bytes`),
      );
      child.on('error', (error) => this.onHostStopped(host, describeError(error)));
      child.on('exit', (code, signal) => {
        host.exited = true;
        const reason = signal ? `signal ${signal}` : `exit code ${code}`;
        if (!loaded) {
          clearTimeout(timer);
          reject(new ScriptLoadError(`the script host stopped while loading: ${reason}`));
        }
        this.onHostStopped(host, reason);
      });
    });
  }

  private onHostStopped(host: Host, reason: string): void {
    host.exited = true;
    const pending = host.pending;
    host.pending = undefined;
    pending?.reject(new HostStoppedError(reason));
  }

  private async stopHost(host: Host): Promise<void> {
    if (host.exited) return;
    const exited = new Promise((resolve) => host.child.once('exit', resolve));
    host.child.kill('SIGKILL');
    await exited;
  }
}

/**
 * What the host may read: its two bundle files, the script's directory and the node_modules
 * directories Node resolves the script's imports from. Directories end in "/" so that the
 * permission model's prefix match cannot extend to a sibling such as "script-old".
 */
function readablePaths(hostFile: string, scriptPath: string): string[] {
  const bundleDir = path.dirname(realpathSync(hostFile));
  const scriptDir = path.dirname(scriptPath);
  const paths = [
    path.join(bundleDir, 'script-host.cjs'),
    path.join(bundleDir, 'script-worker.cjs'),
    `${scriptDir}/`,
  ];
  for (let dir = scriptDir; ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    if (existsSync(modules)) paths.push(`${realpathSync(modules)}/`);
    if (path.dirname(dir) === dir) break;
  }
  return paths;
}

/** Only the fields the status page shows, with their types; anything else keeps the last status. */
function checkStatus(status: unknown, previous: ScriptRunnerStatus): ScriptRunnerStatus {
  const value = status as Partial<ScriptRunnerStatus> | null;
  if (
    typeof value?.scriptPath !== 'string' ||
    typeof value.loadedAt !== 'string' ||
    typeof value.workerRestarts !== 'number' ||
    (value.reloadError !== undefined && typeof value.reloadError !== 'string')
  )
    return previous;
  return {
    scriptPath: value.scriptPath,
    loadedAt: value.loadedAt,
    reloadError: value.reloadError,
    workerRestarts: value.workerRestarts,
  };
}

/** The host's answers are checked again here: a script cannot hand the writers anything malformed. */
function checkOutcomes(outcomes: unknown, expected: number): ScriptOutcome[] {
  if (!Array.isArray(outcomes) || outcomes.length !== expected) {
    throw new Error('the script host answered with a malformed batch');
  }
  return outcomes.map((outcome: ScriptOutcome): ScriptOutcome => {
    if (!outcome?.ok) return { ok: false, reason: String(outcome?.reason) };
    try {
      return { ok: true, readings: outcome.readings.map((reading) => validateReading(reading)) };
    } catch (error) {
      return { ok: false, reason: `script failed: ${describeError(error)}` };
    }
  });
}
