import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createHttpApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import type { ProcessRole } from '../src/jobs/job.types';
import { serviceUrl, tempDir } from './test-env';

/** The real HTTP application on a fresh SQLite file and the test Redis, listening on a free port. */
export async function startTestApp(
  options: { role?: ProcessRole; env?: NodeJS.ProcessEnv; dataDir?: string } = {},
): Promise<{ app: INestApplication; baseUrl: string; dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir();
  // Its own queue prefix: another test file's worker must never take this app's jobs.
  const config = loadConfig({
    DATA_DIR: dataDir,
    QUEUE_PREFIX: `fs-test-${randomUUID()}`,
    // The test SSH host and test servers listen on loopback.
    ALLOW_LOOPBACK_TARGETS: 'true',
    ...options.env,
  });
  const app = await createHttpApp({
    config,
    redisUrl: serviceUrl('FS_TEST_REDIS_URL'),
    role: options.role ?? 'all',
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, dataDir };
}

export const FRONTEND_DIST = join(__dirname, '../../frontend/dist');
