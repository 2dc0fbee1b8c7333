import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { API_PREFIX } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { buildOpenApiDocument } from './openapi';

/**
 * Writes backend/openapi.json, the committed API contract the web UI's types are generated from.
 * Preview mode builds the module graph without running providers, so no database or Redis is needed.
 */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ DATA_DIR: '/nonexistent-preview' });
  const app = await NestFactory.create(
    AppModule.forRoot({ config, redisUrl: 'redis://preview', role: 'api' }),
    { preview: true, logger: false },
  );
  app.setGlobalPrefix(API_PREFIX);
  const document = buildOpenApiDocument(app);
  await app.close();
  return JSON.stringify(document, null, 2) + '\n';
}

if (require.main === module) {
  void renderOpenApi().then((text) => {
    const file = join(__dirname, '../../openapi.json');
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  });
}
