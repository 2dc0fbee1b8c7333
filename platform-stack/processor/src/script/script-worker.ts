/**
 * Runs the user's script in a worker thread of the sandboxed script host: a script that throws or
 * never returns cannot stop the host's main thread, which terminates and replaces this worker when
 * a call exceeds its time limit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { lockDownScriptThread } from './lockdown';
import { validateReading, type Reading } from '../contract/reading';
import { Logger, describeError } from '../log/logger';
import type {
  RunBatchRequest,
  ScriptOutcome,
  ScriptWorkerData,
  WorkerReply,
} from './script-protocol';

/** What the user's `process(reading, ctx)` receives; `time` is a Date for convenience. */
interface ScriptReading {
  measurement: string;
  device: string;
  time: Date;
  data: Record<string, unknown>;
}

interface ScriptContext {
  log(message: string, fields?: Record<string, unknown>): void;
}

type ProcessFunction = (reading: ScriptReading, ctx: ScriptContext) => unknown;

// Taken before lockdown conceals both from the script.
const { scriptPath, progress } = workerData as ScriptWorkerData;
const progressView = new Int32Array(progress);
const port = parentPort;
const scriptLogger = new Logger('info', { component: 'user-script' });
const context: ScriptContext = { log: (message, fields) => scriptLogger.info(message, fields) };

function reply(message: WorkerReply): void {
  port?.postMessage(message);
}

async function loadProcessFunction(): Promise<ProcessFunction> {
  const module = (await import(pathToFileURL(scriptPath).href)) as Record<string, unknown>;
  const candidates = [
    module.default,
    module.process,
    (module.default as Record<string, unknown> | undefined)?.default,
  ];
  const found = candidates.find((candidate) => typeof candidate === 'function');
  if (!found) throw new Error('the script does not export a function "process" (default export)');
  return found as ProcessFunction;
}

async function runOne(processReading: ProcessFunction, reading: Reading): Promise<ScriptOutcome> {
  try {
    const input: ScriptReading = { ...reading, time: new Date(reading.time) };
    const output = await processReading(input, context);
    if (output === null || output === undefined) return { ok: true, readings: [] };
    const list = Array.isArray(output) ? output : [output];
    return { ok: true, readings: list.map((item) => validateReading(item)) };
  } catch (error) {
    return { ok: false, reason: `script failed: ${describeScriptError(error)}` };
  }
}

/** The message, and Node's error code when there is one (ERR_ACCESS_DENIED says the sandbox refused). */
function describeScriptError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `${describeError(error)} (${code})` : describeError(error);
}

async function main(): Promise<void> {
  let processReading: ProcessFunction;
  try {
    lockDownScriptThread();
    processReading = await loadProcessFunction();
  } catch (error) {
    reply({ type: 'load-failed', reason: describeError(error) });
    return;
  }
  port?.on('message', (request: RunBatchRequest) => {
    void (async () => {
      const outcomes: ScriptOutcome[] = [];
      for (let index = 0; index < request.readings.length; index++) {
        Atomics.store(progressView, 0, index + 1);
        outcomes.push(await runOne(processReading, request.readings[index]));
      }
      Atomics.store(progressView, 0, 0);
      reply({ type: 'results', batchId: request.batchId, outcomes });
    })();
  });
  reply({ type: 'loaded' });
}

void main();
