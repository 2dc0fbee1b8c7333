import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { dataSourceOptions } from './data-source-options';

@Module({})
export class DatabaseModule {
  /** `entities` is the composition root's list (src/entities.ts); database/ imports no feature. */
  static forRoot(entities: DataSourceOptions['entities']): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => {
            if (config.database.type === 'sqlite') {
              mkdirSync(dirname(config.database.path), { recursive: true, mode: 0o700 });
            }
            return dataSourceOptions(config.database, entities);
          },
        }),
      ],
    };
  }
}
