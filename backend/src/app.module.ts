import { existsSync } from 'node:fs';
import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import type { AppConfig } from './config/app-config';
import { AlertsModule } from './alerts/alerts.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { BackupsModule } from './backups/backups.module';
import { CredentialsModule } from './credentials/credentials.module';
import { CryptoModule } from './crypto/crypto.module';
import { DatabaseModule } from './database/database.module';
import { ENTITIES } from './entities';
import { DeploymentsModule } from './deployments/deployments.module';
import { DevicesModule } from './devices/devices.module';
import { GrantsModule } from './grants/grants.module';
import { HealthModule } from './health/health.module';
import type { ProcessRole } from './jobs/job.types';
import { JobsModule } from './jobs/jobs.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PlatformsModule } from './platforms/platforms.module';
import { ScriptDebuggingModule } from './script-debugging/script-debugging.module';
import { SpacesModule } from './spaces/spaces.module';

export interface AppOptions {
  config: AppConfig;
  redisUrl: string;
  role: ProcessRole;
}

@Module({})
export class AppModule {
  static forRoot({ config, redisUrl, role }: AppOptions): DynamicModule {
    const imports: ModuleMetadata['imports'] = [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot(ENTITIES),
      JobsModule.forRoot({ redisUrl, queuePrefix: config.queuePrefix, runWorker: role !== 'api' }),
      CryptoModule,
      HealthModule,
      AuthModule,
      AuditModule,
      CredentialsModule,
      GrantsModule,
      DeploymentsModule,
      SpacesModule,
      PlatformsModule,
      ScriptDebuggingModule,
      DevicesModule,
      BackupsModule,
      MetricsModule,
      AlertsModule,
      NotificationsModule,
    ];
    // In production the API also serves the built web UI, so one port serves both.
    if (role !== 'worker' && existsSync(config.frontendDir)) {
      imports.push(
        ServeStaticModule.forRoot({ rootPath: config.frontendDir, exclude: ['/api/{*path}'] }),
      );
    }
    return { module: AppModule, imports };
  }
}
