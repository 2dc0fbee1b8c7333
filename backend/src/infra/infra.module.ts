import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CloudStacks } from './cloud-stacks';
import { terraformBinary } from './runner/terraform-binary';
import { TerraformRunner } from './runner/terraform-runner';
import { StackSynthesizer } from './stack-synthesizer';

@Module({
  providers: [
    {
      provide: CloudStacks,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new CloudStacks(
          config.dataDir,
          new StackSynthesizer(),
          new TerraformRunner({
            binary: terraformBinary(config.terraformBin),
            cacheDir: join(config.dataDir, 'terraform'),
          }),
        ),
    },
  ],
  exports: [CloudStacks],
})
export class InfraModule {}
