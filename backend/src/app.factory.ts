import { type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type {
  NestExpressApplication,
  NestExpressBodyParserOptionsFor,
} from '@nestjs/platform-express';
import { AppModule, type AppOptions } from './app.module';
import { ApiErrorFilter } from './common/api-error.filter';
import { refuseDeepJson } from './common/json-depth';
import { apiValidationPipe } from './common/validation.pipe';
import { mountOpenApi } from './openapi/openapi';
import { securityHeaders } from './security-headers';

export const API_PREFIX = 'api/v1';
const JSON_BODY_LIMIT = '1mb';

/** Builds the HTTP application exactly as production runs it; tests use the same function. */
export async function createHttpApp(options: AppOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    logger: ['log', 'warn', 'error'],
  });
  // Which proxies may tell the client's address and scheme (rate limits, HSTS, Secure cookies).
  app.set('trust proxy', options.config.trustProxy);
  // First, so that every answer carries the headers, errors of the body parser included.
  app.use(securityHeaders());
  // Nest's option type leaves out `verify` (Nest sets it only for `rawBody`, unused here);
  // Express's parser honours it, and request-input.http.test.ts proves the hook runs.
  const jsonOptions = { limit: JSON_BODY_LIMIT, verify: refuseDeepJson };
  app.useBodyParser('json', jsonOptions as NestExpressBodyParserOptionsFor<'json'>);
  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalFilters(new ApiErrorFilter());
  app.useGlobalPipes(apiValidationPipe());
  app.disable('x-powered-by');
  mountOpenApi(app);
  return app;
}

/** A worker-only process: no HTTP server, just the job consumers. */
export function createWorkerContext(options: AppOptions): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(AppModule.forRoot(options), {
    logger: ['log', 'warn', 'error'],
  });
}
