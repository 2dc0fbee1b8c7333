import type { LogLevel } from '../log/logger';

export type DatabaseKind = 'postgres' | 'timescaledb' | 'influxdb' | 'mongodb';

export type DatabaseConfig =
  | { kind: 'postgres' | 'timescaledb'; url: string }
  | { kind: 'influxdb'; url: string; database: string; username?: string; password?: string }
  | { kind: 'mongodb'; url: string; database: string };

export interface ProcessorConfig {
  amqpUrl: string;
  queue: string;
  deadLetterQueue: string;
  /** Unacknowledged messages the broker may hand us at once: four batches, so batches fill while others are scripted and written. */
  prefetch: number;
  batchSize: number;
  batchMaxWaitMs: number;
  database: DatabaseConfig;
  /** The user's script; without one, readings are stored as they arrive. */
  scriptPath?: string;
  scriptTimeoutMs: number;
  /** Longest one batch may spend in the script host before the host is killed and the batch dead-lettered. */
  scriptBatchTimeoutMs: number;
  /** The platform's data volume (mounted read-only); its use pauses consuming when nearly full. */
  dataVolumePath?: string;
  /** Plain PostgreSQL: how often readings past the platform's retention are deleted. */
  retentionPruneIntervalMs: number;
  statusHost: string;
  statusPort: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the processor's configuration from environment variables (secrets never come from argv). */
export function loadProcessorConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const batchSize = integer(env, 'PROCESSOR_BATCH_SIZE', 1000, 1, 50_000);
  return {
    amqpUrl: required(env, 'AMQP_URL'),
    queue: env.PROCESSOR_QUEUE || 'telemetry',
    deadLetterQueue: env.PROCESSOR_DEAD_LETTER_QUEUE || 'telemetry.dead-letter',
    prefetch: integer(env, 'PROCESSOR_PREFETCH', Math.min(batchSize * 4, 65_535), 1, 65_535),
    batchSize,
    batchMaxWaitMs: integer(env, 'PROCESSOR_BATCH_MAX_WAIT_MS', 100, 1, 60_000),
    database: databaseConfig(env),
    scriptPath: env.SCRIPT_PATH || undefined,
    scriptTimeoutMs: integer(env, 'SCRIPT_TIMEOUT_MS', 1000, 10, 600_000),
    scriptBatchTimeoutMs: integer(env, 'SCRIPT_BATCH_TIMEOUT_MS', 60_000, 100, 3_600_000),
    dataVolumePath: env.DATA_VOLUME_PATH || undefined,
    retentionPruneIntervalMs: integer(
      env,
      'RETENTION_PRUNE_INTERVAL_MS',
      10 * 60_000,
      1000,
      24 * 60 * 60_000,
    ),
    statusHost: env.STATUS_HOST || '0.0.0.0',
    statusPort: integer(env, 'STATUS_PORT', 8080, 0, 65_535),
    logLevel: logLevel(env.LOG_LEVEL),
  };
}

function databaseConfig(env: NodeJS.ProcessEnv): DatabaseConfig {
  const kind = required(env, 'DATABASE_KIND');
  switch (kind) {
    case 'postgres':
    case 'timescaledb':
      return { kind, url: required(env, 'POSTGRES_URL') };
    case 'influxdb':
      return {
        kind,
        url: required(env, 'INFLUX_URL'),
        database: env.INFLUX_DATABASE || 'telemetry',
        username: env.INFLUX_USERNAME || undefined,
        password: env.INFLUX_PASSWORD || undefined,
      };
    case 'mongodb':
      return { kind, url: required(env, 'MONGO_URL'), database: env.MONGO_DATABASE || 'telemetry' };
    default:
      throw new ConfigError(
        'DATABASE_KIND must be one of postgres, timescaledb, influxdb, mongodb',
      );
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  if (raw === 'debug' || raw === 'info' || raw === 'warn' || raw === 'error') return raw;
  throw new ConfigError('LOG_LEVEL must be debug, info, warn or error');
}
