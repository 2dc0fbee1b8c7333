/**
 * The processor: consumes the telemetry queue, runs the user's script, writes batches to the
 * platform's database and acknowledges only what the database confirmed. Broker connection loss
 * is fatal by design (crash-only): the container restarts and the broker redelivers every
 * unacknowledged message. A database outage is waited out in-process.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { ConfigError, loadProcessorConfig, type ProcessorConfig } from './config/processor-config';
import { assertTopology } from './contract/topology';
import { runDebugCommand } from './debugging/debug-commands';
import { DiskGuard } from './disk/disk-guard';
import { statfsUsage } from './disk/disk-usage';
import { ScriptLog } from './debugging/script-log';
import { Logger, describeError } from './log/logger';
import { BatchPipeline } from './pipeline/batch-pipeline';
import { DeadLetterPublisher } from './pipeline/dead-letter-publisher';
import { retryUntilSuccess } from './pipeline/retry';
import { ScriptSandbox } from './script/script-sandbox';
import { ProcessorMetrics } from './status/processor-metrics';
import { StatusServer } from './status/status-server';
import { createReadingWriter } from './writers/create-reading-writer';
import { pruneExpiredReadings } from './writers/postgres-retention';
import type { ReadingWriter } from './writers/reading-writer';

const QUEUE_DEPTH_SAMPLE_MS = 10_000;
const DISK_CHECK_MS = 5_000;
/** Rows deleted per statement when pruning: short transactions that never hold up ingest long. */
const PRUNE_BATCH_SIZE = 5_000;
const SHUTDOWN_GRACE_MS = 10_000;
/** `main.cjs --check-script`: load the script once in the sandbox, report, exit (0 loads, 1 not). */
const CHECK_SCRIPT_FLAG = '--check-script';
const CHECK_SCRIPT_DEADLINE_MS = 60_000;

async function main(): Promise<void> {
  let config: ProcessorConfig;
  try {
    config = loadProcessorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = new Logger(config.logLevel, { component: 'processor' });
  if (process.argv.includes(CHECK_SCRIPT_FLAG)) return checkScript(config);
  if (await runDebugCommand(config, process.argv)) return;
  const metrics = new ProcessorMetrics();
  let shuttingDown = false;
  const fatal = (error: unknown) => {
    logger.error('fatal error; exiting so the broker redelivers unacknowledged messages', {
      error: describeError(error),
    });
    process.exit(1);
  };

  // Filled in once loaded; the status endpoint answers before that (e.g. while the database is down).
  const scriptHolder: { sandbox?: ScriptSandbox } = {};
  const guardHolder: { disk?: DiskGuard } = {};
  const scriptLog = new ScriptLog();
  const status = new StatusServer(
    () => ({
      ...metrics.snapshot(),
      database: config.database.kind,
      script: scriptHolder.sandbox?.status() ?? null,
      disk: guardHolder.disk?.snapshot() ?? null,
    }),
    // A pause for a full disk is deliberate: the container is well, the health check says why.
    () => (metrics.consuming || guardHolder.disk?.paused === true) && metrics.databaseReady,
    {
      '/script-log': () => ({ lines: scriptLog.entries(), dropped: scriptLog.droppedCount }),
      '/devices': () => ({ at: new Date().toISOString(), devices: metrics.devices.snapshot() }),
    },
  );
  const statusPort = await status.listen(config.statusPort, config.statusHost);
  logger.info('status endpoint listening', { port: statusPort });

  const writer = createReadingWriter(config.database);
  await prepareDatabase(writer, logger);
  metrics.databaseReady = true;

  const sandbox = config.scriptPath
    ? await startSandbox(config, config.scriptPath, logger, scriptLog)
    : undefined;
  scriptHolder.sandbox = sandbox;

  const connection = await retryUntilSuccess(
    () =>
      amqp.connect(withHeartbeat(config.amqpUrl), {
        clientProperties: { connection_name: 'fieldstation-processor' },
      }),
    (error, attempt, delayMs) =>
      logger.warn('broker not reachable; retrying', {
        attempt,
        delayMs,
        error: describeError(error),
      }),
  );
  connection.on('error', (error: Error) =>
    logger.error('broker connection error', { error: describeError(error) }),
  );
  connection.on('close', () => {
    if (!shuttingDown) fatal(new Error('broker connection closed'));
  });

  const consumeChannel = await connection.createChannel();
  await consumeChannel.prefetch(config.prefetch);
  await assertTopology(consumeChannel, {
    queue: config.queue,
    deadLetterQueue: config.deadLetterQueue,
  });
  const publishChannel = await connection.createConfirmChannel();
  for (const channel of [consumeChannel, publishChannel]) {
    channel.on('close', () => {
      if (!shuttingDown) fatal(new Error('broker channel closed'));
    });
  }

  const pipeline = new BatchPipeline({
    consumeChannel,
    deadLetters: new DeadLetterPublisher(publishChannel, config.deadLetterQueue),
    writer,
    sandbox,
    metrics,
    logger,
    batchSize: config.batchSize,
    batchMaxWaitMs: config.batchMaxWaitMs,
    onFatal: fatal,
  });
  const consume = async () => {
    const { consumerTag } = await consumeChannel.consume(config.queue, (message) => {
      if (message) pipeline.accept(message);
      else fatal(new Error('the broker cancelled the consumer (queue deleted?)'));
    });
    metrics.consuming = true;
    return consumerTag;
  };
  let consumerTag: string | null = await consume();
  if (config.dataVolumePath) {
    const disk = new DiskGuard({
      read: statfsUsage(config.dataVolumePath),
      pause: async () => {
        if (consumerTag) await consumeChannel.cancel(consumerTag);
        consumerTag = null;
        metrics.consuming = false;
      },
      resume: async () => {
        consumerTag = await consume();
      },
      logger,
    });
    guardHolder.disk = disk;
    await disk.check();
    setInterval(() => void disk.check().catch(fatal), DISK_CHECK_MS).unref();
  }
  // Its own channel: a failed check closes the channel it ran on, which must not be the consumer's.
  const depthChannel = await connection.createChannel();
  const sampleDepth = () =>
    depthChannel.checkQueue(config.queue).then(
      (queue) => (metrics.queueDepth = queue.messageCount),
      () => (metrics.queueDepth = null),
    );
  void sampleDepth();
  setInterval(() => void sampleDepth(), QUEUE_DEPTH_SAMPLE_MS).unref();
  if (config.database.kind === 'postgres') {
    const url = config.database.url;
    const prune = () =>
      pruneExpiredReadings(url, PRUNE_BATCH_SIZE).then(
        (deleted) => {
          if (deleted > 0) logger.info('deleted readings past their retention', { deleted });
        },
        (error: unknown) =>
          logger.warn('could not delete readings past their retention', {
            error: describeError(error),
          }),
      );
    void prune();
    setInterval(() => void prune(), config.retentionPruneIntervalMs).unref();
  }
  logger.info('consuming', {
    queue: config.queue,
    database: config.database.kind,
    prefetch: config.prefetch,
    batchSize: config.batchSize,
    script: config.scriptPath ?? null,
    dataVolume: config.dataVolumePath ?? null,
  });

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    metrics.consuming = false;
    // Whatever is not acknowledged by then is redelivered by the broker, so a stuck drain may be cut short.
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    try {
      if (consumerTag) await consumeChannel.cancel(consumerTag);
      await pipeline.drain();
      await closeQuietly(connection);
      await writer.close();
      await sandbox?.close();
      await status.close();
    } catch (error) {
      logger.warn('error during shutdown', { error: describeError(error) });
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function prepareDatabase(writer: ReadingWriter, logger: Logger): Promise<void> {
  await retryUntilSuccess(
    () => writer.prepare(),
    (error, attempt, delayMs) =>
      logger.warn('database not ready; retrying', {
        database: writer.kind,
        attempt,
        delayMs,
        error: describeError(error),
      }),
  );
}

/**
 * Run before a new script replaces the running one (update-processor): a script that cannot load
 * is refused in seconds, with its error, while the old processor keeps consuming.
 */
async function checkScript(config: ProcessorConfig): Promise<void> {
  const fail = (message: string) => {
    process.stderr.write(`The script does not load: ${message}\n`);
    process.exit(1);
  };
  if (!config.scriptPath) return;
  setTimeout(
    () => fail(`it did not finish loading within ${CHECK_SCRIPT_DEADLINE_MS / 1000} s`),
    CHECK_SCRIPT_DEADLINE_MS,
  ).unref();
  try {
    const sandbox = await ScriptSandbox.start({
      scriptPath: config.scriptPath,
      timeoutMs: config.scriptTimeoutMs,
      batchTimeoutMs: config.scriptBatchTimeoutMs,
      logger: new Logger('error', { component: 'script-check' }),
    });
    await sandbox.close();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  process.stdout.write('The script loads.\n');
  process.exit(0);
}

/** A script that does not load keeps the processor waiting (not consuming) until the file is fixed. */
async function startSandbox(
  config: ProcessorConfig,
  scriptPath: string,
  logger: Logger,
  scriptLog: ScriptLog,
): Promise<ScriptSandbox> {
  return retryUntilSuccess(
    () =>
      ScriptSandbox.start({
        scriptPath,
        timeoutMs: config.scriptTimeoutMs,
        batchTimeoutMs: config.scriptBatchTimeoutMs,
        logger,
        // Still in the container's log; the last lines also for the Processing tab.
        onOutput: (line) => {
          process.stdout.write(`${line}\n`);
          scriptLog.add(line);
        },
      }),
    (error, attempt) =>
      logger.error('the script cannot be loaded; waiting for a fixed version', {
        attempt,
        error: describeError(error),
      }),
    { initialMs: 1000, maxMs: 5000 },
  );
}

/** Heartbeats detect a silently dead broker connection; amqplib sends none unless the URL asks. */
function withHeartbeat(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '30');
  return url.href;
}

async function closeQuietly(connection: ChannelModel): Promise<void> {
  try {
    await connection.close();
  } catch {
    // already closed by the broker
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`processor failed to start: ${describeError(error)}\n`);
  process.exit(1);
});
