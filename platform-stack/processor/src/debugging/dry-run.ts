import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Reading } from '../contract/reading';
import { Logger, describeError } from '../log/logger';
import { ScriptSandbox } from '../script/script-sandbox';
import { ScriptLog, type ScriptLogEntry } from './script-log';

/** A reading as the dry run shows it: `time` as ISO-8601. */
export interface ShownReading {
  measurement: string;
  device: string;
  time: string;
  data: Record<string, unknown>;
}

/** What one input gave: the script's readings (empty: dropped) or why it failed. */
export interface DryRunResult {
  /** Null when the input did not even parse as a reading (a dead letter of stage `parse`). */
  input: ShownReading | null;
  bodyPreview: string | null;
  outputs: ShownReading[] | null;
  error: string | null;
}

export interface DryRunReport {
  /** Why the script did not load; then nothing ran. */
  loadError: string | null;
  results: DryRunResult[];
  /** What the script logged during the run (`ctx.log`, `console.log`). */
  log: ScriptLogEntry[];
}

/** Inputs: readings, or messages that did not parse (shown with their error, not run). */
export type DryRunInput = { reading: Reading } | { error: string; bodyPreview: string };

export interface DryRunOptions {
  scriptSource: string;
  inputs: DryRunInput[];
  /** The deployed script's path: the dry run's script resolves its imports from the same node_modules. */
  deployedScriptPath?: string;
  timeoutMs: number;
  batchTimeoutMs: number;
}

/** Output written after the results can still be in the pipe; the host is killed after this. */
const OUTPUT_GRACE_MS = 300;

/**
 * Runs a script version against inputs in the processor's own sandbox (ScriptSandbox: the script
 * host with its empty environment, permission model and seccomp filter), in a temp directory that
 * is removed afterwards. Nothing is deployed, published or stored.
 */
export async function dryRun(options: DryRunOptions): Promise<DryRunReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fieldstation-dry-run-'));
  const log = new ScriptLog();
  try {
    const scriptPath = path.join(dir, 'process.mjs');
    writeFileSync(scriptPath, options.scriptSource, { mode: 0o600 });
    const modules = options.deployedScriptPath && nearestNodeModules(options.deployedScriptPath);
    if (modules) symlinkSync(modules, path.join(dir, 'node_modules'), 'dir');
    let sandbox: ScriptSandbox;
    try {
      sandbox = await ScriptSandbox.start({
        scriptPath,
        timeoutMs: options.timeoutMs,
        batchTimeoutMs: options.batchTimeoutMs,
        watchIntervalMs: 3_600_000,
        logger: new Logger('error', { component: 'dry-run' }),
        onOutput: (line) => log.add(line),
      });
    } catch (error) {
      return { loadError: describeError(error), results: [], log: log.entries() };
    }
    try {
      const readings = options.inputs.flatMap((input) =>
        'reading' in input ? [input.reading] : [],
      );
      const outcomes = readings.length > 0 ? await sandbox.run(readings) : [];
      await delay(OUTPUT_GRACE_MS);
      let next = 0;
      const results = options.inputs.map((input): DryRunResult => {
        if (!('reading' in input)) {
          return { input: null, bodyPreview: input.bodyPreview, outputs: null, error: input.error };
        }
        const outcome = outcomes[next++]!;
        return {
          input: show(input.reading),
          bodyPreview: null,
          outputs: outcome.ok ? outcome.readings.map(show) : null,
          error: outcome.ok ? null : outcome.reason,
        };
      });
      return { loadError: null, results, log: log.entries() };
    } finally {
      await sandbox.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function show(reading: Reading): ShownReading {
  return { ...reading, time: new Date(reading.time).toISOString() };
}

function nearestNodeModules(scriptPath: string): string | undefined {
  for (let dir = path.dirname(scriptPath); ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    if (existsSync(modules)) return modules;
    if (path.dirname(dir) === dir) return undefined;
  }
}
