import amqp from 'amqplib';
import type { ProcessorConfig } from '../config/processor-config';
import { validateReading } from '../contract/reading';
import { describeError } from '../log/logger';
import {
  deadLetterReadings,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
} from './dead-letter-queue';
import { dryRun, type DryRunInput } from './dry-run';

/**
 * One-shot commands the backend runs in the processor's container (`docker exec`, over the
 * platform's SSH connection) for the Processing tab. Each prints one line
 * `FIELDSTATION-RESULT <json>` on stdout (other output may precede it) and exits 0, or exits 1
 * with the reason on stderr. Inputs that come from the user (a script, readings) arrive on stdin
 * as JSON, never as arguments.
 */
export const DEBUG_COMMANDS = {
  listDeadLetters: '--list-dead-letters',
  replayDeadLetters: '--replay-dead-letters',
  purgeDeadLetters: '--purge-dead-letters',
  dryRun: '--dry-run',
} as const;

export const RESULT_PREFIX = 'FIELDSTATION-RESULT ';
export const DEAD_LETTER_LIST_MAX = 200;
export const DRY_RUN_MAX_INPUTS = 100;
const BODY_PREVIEW_BYTES = 500;
const MAX_STDIN_BYTES = 8 * 1024 * 1024;

/** Runs the command named in argv, if any; false when argv names none (the processor starts). */
export async function runDebugCommand(config: ProcessorConfig, argv: string[]): Promise<boolean> {
  const command = Object.values(DEBUG_COMMANDS).find((flag) => argv.includes(flag));
  if (!command) return false;
  try {
    const result = await run(command, config);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    process.exit(1);
  }
}

async function run(command: string, config: ProcessorConfig): Promise<unknown> {
  if (command === DEBUG_COMMANDS.dryRun) {
    const request = parseDryRunRequest(await readStdin());
    const inputs =
      request.from === 'dead-letters'
        ? await withChannel(config, (channel) =>
            deadLetterReadings(channel, config.deadLetterQueue, DRY_RUN_MAX_INPUTS),
          )
        : request.readings;
    return dryRun({
      scriptSource: request.scriptSource,
      inputs,
      deployedScriptPath: config.scriptPath,
      timeoutMs: config.scriptTimeoutMs,
      batchTimeoutMs: config.scriptBatchTimeoutMs,
    });
  }
  return withChannel(config, async (channel) => {
    if (command === DEBUG_COMMANDS.listDeadLetters) {
      return listDeadLetters(
        channel,
        config.deadLetterQueue,
        DEAD_LETTER_LIST_MAX,
        BODY_PREVIEW_BYTES,
      );
    }
    if (command === DEBUG_COMMANDS.purgeDeadLetters) {
      return { purged: await purgeDeadLetters(channel, config.deadLetterQueue) };
    }
    return { replayed: await replayDeadLetters(channel, config.deadLetterQueue, config.queue) };
  });
}

/** A confirm channel on its own connection, closed afterwards (requeueing what it left unacked). */
async function withChannel<T>(
  config: ProcessorConfig,
  work: (channel: amqp.ConfirmChannel) => Promise<T>,
): Promise<T> {
  const connection = await amqp.connect(config.amqpUrl, {
    clientProperties: { connection_name: 'fieldstation-processor-debugging' },
  });
  try {
    const channel = await connection.createConfirmChannel();
    const result = await work(channel);
    // Closing the channel first sends its acknowledgements; closing only the connection can drop them.
    await channel.close();
    return result;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function parseDryRunRequest(text: string): {
  scriptSource: string;
  from: 'readings' | 'dead-letters';
  readings: DryRunInput[];
} {
  const request = JSON.parse(text) as {
    scriptSource?: unknown;
    from?: unknown;
    readings?: unknown;
  };
  if (typeof request.scriptSource !== 'string') throw new Error('the dry run needs a script');
  if (request.from !== 'readings' && request.from !== 'dead-letters') {
    throw new Error('the dry run reads from "readings" or "dead-letters"');
  }
  const readings = Array.isArray(request.readings) ? request.readings : [];
  return {
    scriptSource: request.scriptSource,
    from: request.from,
    readings: readings.slice(0, DRY_RUN_MAX_INPUTS).map((reading: unknown): DryRunInput => {
      try {
        return { reading: validateReading(reading) };
      } catch (error) {
        return {
          error: describeError(error),
          bodyPreview: JSON.stringify(reading).slice(0, BODY_PREVIEW_BYTES),
        };
      }
    }),
  };
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_STDIN_BYTES) reject(new Error('the request on stdin is too large'));
      else chunks.push(chunk);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}
