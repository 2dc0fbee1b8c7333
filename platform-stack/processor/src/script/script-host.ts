/**
 * The script host: a child process of the processor that ScriptSandbox starts with an empty
 * environment and Node's permission model. It runs the user's script through a ScriptRunner (a
 * worker thread with a time limit and hot reload) and answers the processor over the IPC channel.
 * Its options come as argv: they hold no secret, and the environment is deliberately empty.
 */
import path from 'node:path';
import { Logger, describeError } from '../log/logger';
import type { HostReply, HostRequest, ScriptHostOptions } from './script-protocol';
import { ScriptRunner } from './script-runner';

const options = JSON.parse(process.argv[2] ?? '{}') as ScriptHostOptions;
const logger = new Logger('info', { component: 'script-host' });

function send(reply: HostReply): void {
  process.send?.(reply);
}

async function main(): Promise<void> {
  // The processor going away closes the channel: nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
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
    process.disconnect();
    return;
  }
  runner.watch(options.watchIntervalMs);
  // One batch at a time, in the order the processor sent them.
  let previous = Promise.resolve();
  process.on('message', (request: HostRequest) => {
    if (request.type !== 'run') return;
    previous = previous.then(async () => {
      const outcomes = await runner.run(request.readings);
      send({ type: 'results', batchId: request.batchId, outcomes, status: runner.status() });
    });
    previous.catch((error: unknown) => {
      logger.error('the script host cannot run the script; exiting', {
        error: describeError(error),
      });
      process.exit(1);
    });
  });
  send({ type: 'loaded', status: runner.status() });
}

void main();
