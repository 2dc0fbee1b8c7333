import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FILE_STORE, type FileStore } from './file-store';
import { LocalFileStore } from './local-file-store';
import { S3FileStore } from './s3-file-store';

/** Provides the FileStore that FILE_STORE configures: the data dir (default) or an S3 bucket. */
@Module({
  providers: [
    {
      provide: FILE_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): FileStore =>
        config.fileStore.type === 's3'
          ? new S3FileStore(config.fileStore)
          : new LocalFileStore(config.dataDir),
    },
  ],
  exports: [FILE_STORE],
})
export class FilesModule {}
