import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { AccountResources } from '../auth/account-resources';
import { CredentialUsage } from '../credentials/credential-usage';
import { CredentialsModule } from '../credentials/credentials.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { FilesModule } from '../files/files.module';
import { InfraModule } from '../infra';
import { ProvisionModule } from '../provision/provision.module';
import { SpaceUsage } from '../spaces/space-usage';
import { SpacesModule } from '../spaces/spaces.module';
import { UsersModule } from '../users/users.module';
import { NpmRegistry } from './npm-registry';
import { PlatformHealthObservers } from './health-observers';
import { PlatformLaunchHooks } from './launch-hooks';
import { PlatformReadingAlerts } from './platform-reading-alerts';
import { PlatformAccess } from './platform-access';
import { PlatformDevices } from './platform-devices';
import { PlatformHealthChecks } from './platform-health';
import { PlatformInfrastructure } from './platform-infrastructure';
import { PlatformJobs } from './platform-jobs';
import { PlatformReadings } from './platform-readings';
import { PlatformRemoval } from './platform-removal';
import { PlatformReadingsController } from './platform-readings.controller';
import { PlatformRecords } from './platform-records';
import { RestoreUploads } from './platform-uploads';
import { Platform } from './platform.entity';
import { PlatformsController } from './platforms.controller';
import { PlatformsService } from './platforms.service';
import { PlatformRetirementHooks } from './retirement-hooks';

@Module({
  imports: [
    TypeOrmModule.forFeature([Platform]),
    AuthModule,
    CredentialsModule,
    DeploymentsModule,
    FilesModule,
    InfraModule,
    ProvisionModule,
    SpacesModule,
    UsersModule,
  ],
  controllers: [PlatformsController, PlatformReadingsController],
  providers: [
    PlatformsService,
    PlatformReadings,
    PlatformRemoval,
    PlatformRecords,
    PlatformAccess,
    PlatformDevices,
    PlatformInfrastructure,
    PlatformJobs,
    PlatformHealthChecks,
    PlatformHealthObservers,
    PlatformLaunchHooks,
    PlatformRetirementHooks,
    PlatformReadingAlerts,
    NpmRegistry,
    RestoreUploads,
  ],
  // For the device registry (devices/), which manages fleets of these platforms.
  // The health observers, launch hooks and reading alerts: for the metrics history and alerts
  // (metrics/, alerts/).
  exports: [
    PlatformRecords,
    PlatformAccess,
    PlatformDevices,
    PlatformHealthObservers,
    PlatformLaunchHooks,
    PlatformRetirementHooks,
    PlatformReadingAlerts,
  ],
})
export class PlatformsModule implements OnModuleInit {
  constructor(
    private readonly credentialUsage: CredentialUsage,
    private readonly accountResources: AccountResources,
    private readonly spaceUsage: SpaceUsage,
    private readonly platforms: PlatformRecords,
  ) {}

  onModuleInit(): void {
    this.credentialUsage.register('platforms', (userId, credentialId) =>
      this.platforms.namesUsingCredential(userId, credentialId),
    );
    // listOwned leaves destroyed platforms out: a user has a handful, so counting rows is cheap.
    this.accountResources.register(
      'platforms',
      async (userId) => (await this.platforms.listOwned(userId)).length,
    );
    this.spaceUsage.register(
      async (userId, spaceId) =>
        (await this.platforms.listOwned(userId)).filter((p) => p.spaceId === spaceId).length,
    );
  }
}
