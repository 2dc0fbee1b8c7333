/**
 * The script host: a child process of the processor that ScriptSandbox starts with an empty
 * environment, Node's permission model and a seccomp filter. It runs the user's script through a
 * ScriptRunner (a worker thread with a time limit and hot reload) and answers the processor with
 * one JSON line per message over the pipe on fd 3 (line-channel.ts). Its options come as argv:
 * they hold no secret, and the environment is deliberately empty.
 */
import { Socket } from 'node:net';
import path from 'node:path';
import { Logger, describeError } from '../log/logger';
import { encodeLine, readLines } from './line-channel';
import type { HostReply, HostRequest, ScriptHostOptions, ScriptOutcome } from './script-protocol';
import { ScriptRunner } from './script-runner';

const options = JSON.parse(process.argv[2] ?? '{}') as ScriptHostOptions;
const logger = new Logger('info', { component: 'script-host' });
const channel = new Socket({ fd: 3, readable: true, writable: true });

function send(reply: HostReply): void {
  channel.write(encodeLine(reply));
}

/** JSON carries what a reading can be stored as; a script value it cannot carry fails that reading. */
function sendResults(reply: Extract<HostReply, { type: 'results' }>): void {
  try {
    channel.write(encodeLine(reply));
  } catch {
    const outcomes = reply.outcomes.map((outcome): ScriptOutcome => {
      try {
        JSON.stringify(outcome);
        return outcome;
      } catch (error) {
        return {
          ok: false,
          reason: `script returned a value JSON cannot carry: ${describeError(error)}`,
        };
      }
    });
    channel.write(encodeLine({ ...reply, outcomes }));
  }
}

async function main(): Promise<void> {
  // The processor going away closes the pipe: nothing is left to answer.
  channel.on('close', () => process.exit(0));
  channel.on('error', () => process.exit(0));
  let runner: ScriptRunner;
  try {
    runner = await ScriptRunner.start({
      scriptPath: options.scriptPath,
      timeoutMs: options.timeoutMs,
      maxHeapMb: options.maxHeapMb,
      workerFile: path.join(__dirname, 'script-worker.cjs'),
      logger,
    });
  } catch (error) {
    send({ type: 'load-failed', reason: describeError(error) });
    channel.end();
    return;
  }
  runner.watch(options.watchIntervalMs);
  // One batch at a time, in the order the processor sent them.
  let previous = Promise.resolve();
  readLines(
    channel,
    Number.MAX_SAFE_INTEGER, // the processor is the trusted side
    (line) => {
      const request = JSON.parse(line) as HostRequest;
      if (request.type !== 'run') return;
      previous = previous.then(async () => {
        const outcomes = await runner.run(request.readings);
        sendResults({
          type: 'results',
          batchId: request.batchId,
          outcomes,
          status: runner.status(),
        });
      });
      previous.catch((error: unknown) => {
        logger.error('the script host cannot run the script; exiting', {
          error: describeError(error),
        });
        process.exit(1);
      });
    },
    () => process.exit(1),
  );
  send({ type: 'loaded', status: runner.status() });
}

void main();
