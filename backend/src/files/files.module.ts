import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FILE_STORE } from './file-store';
import { LocalFileStore } from './local-file-store';

/** Provides the FileStore: the local-dir backend under the data dir (the only one so far). */
@Module({
  providers: [
    {
      provide: FILE_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new LocalFileStore(config.dataDir),
    },
  ],
  exports: [FILE_STORE],
})
export class FilesModule {}
