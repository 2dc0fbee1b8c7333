import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { Logger, type INestApplication } from '@nestjs/common';
import { createHttpApp, createWorkerContext } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';
import type { ProcessRole } from './jobs/job.types';
import { LocalRedis, LocalRedisUnavailableError } from './redis/local-redis';

function parseRole(argv: string[]): ProcessRole {
  const index = argv.indexOf('--role');
  const value = index >= 0 ? argv[index + 1] : 'all';
  if (value === 'all' || value === 'api' || value === 'worker') return value;
  throw new ConfigError(`Invalid --role "${value}": use api, worker or all`);
}

async function main(): Promise<void> {
  const role = parseRole(process.argv);
  // Everything Fieldstation writes (database, keys, stacks) is private to its user.
  process.umask(0o077);
  const config = loadConfig(process.env);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const logger = new Logger('Fieldstation');
  const localRedis = config.redisUrl
    ? undefined
    : await LocalRedis.start(config.dataDir, ({ level, message }) => logger[level](message));
  const redisUrl = config.redisUrl ?? localRedis!.url;
  if (localRedis) logger.log(`Started a private redis-server (pid ${localRedis.pid})`);

  const app =
    role === 'worker'
      ? await createWorkerContext({ config, redisUrl, role })
      : await createHttpApp({ config, redisUrl, role });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, stopping`);
    await app.close();
    await localRedis?.stop();
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));

  if (role !== 'worker') {
    await (app as INestApplication).listen(config.port, config.host);
    const shownHost = config.host === '0.0.0.0' ? 'localhost' : config.host;
    logger.log(`Fieldstation is running at http://${shownHost}:${config.port}/ (role: ${role})`);
  } else {
    logger.log('Fieldstation worker is running');
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof LocalRedisUnavailableError) {
    process.stderr.write(`fieldstation: ${error.message}\n`);
  } else {
    process.stderr.write(`fieldstation: failed to start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
