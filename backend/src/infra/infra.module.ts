import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CloudStacks, type StackStateStore } from './cloud-stacks';
import { terraformBinary } from './runner/terraform-binary';
import { TerraformRunner } from './runner/terraform-runner';
import { StackSynthesizer } from './stack-synthesizer';

@Module({
  providers: [
    {
      provide: CloudStacks,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // With Fieldstation's data in PostgreSQL, stack state goes there too (DESIGN §11).
        const state: StackStateStore =
          config.database.type === 'postgres'
            ? { type: 'pg', connectionString: config.database.url }
            : { type: 'local' };
        return new CloudStacks(
          config.dataDir,
          new StackSynthesizer({ stateBackend: state.type }),
          new TerraformRunner({
            binary: terraformBinary(config.terraformBin),
            cacheDir: join(config.dataDir, 'terraform'),
          }),
          state,
        );
      },
    },
  ],
  exports: [CloudStacks],
})
export class InfraModule {}
