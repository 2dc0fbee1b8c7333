import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { CredentialUsage } from '../credentials/credential-usage';
import { CredentialsModule } from '../credentials/credentials.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { GrantsModule } from '../grants/grants.module';
import { PlatformsModule } from '../platforms/platforms.module';
import { PlatformRetirementHooks } from '../platforms/retirement-hooks';
import { ProvisionModule } from '../provision/provision.module';
import { BackupJobs } from './backup-jobs';
import { BackupRestores } from './backup-restores.service';
import { BackupRun } from './backup-run.entity';
import { BackupRuns } from './backup-runs.service';
import { BackupSchedule } from './backup-schedule.entity';
import { BackupSchedulesController } from './backup-schedules.controller';
import { BackupSchedules } from './backup-schedules.service';
import { PlatformBackupsController, StoredBackupsController } from './backups.controller';

@Module({
  imports: [
    TypeOrmModule.forFeature([BackupSchedule, BackupRun]),
    AuthModule,
    CredentialsModule,
    DeploymentsModule,
    GrantsModule,
    PlatformsModule,
    ProvisionModule,
  ],
  controllers: [BackupSchedulesController, PlatformBackupsController, StoredBackupsController],
  providers: [BackupSchedules, BackupRuns, BackupRestores, BackupJobs],
})
export class BackupsModule implements OnModuleInit {
  constructor(
    private readonly credentialUsage: CredentialUsage,
    private readonly schedules: BackupSchedules,
    private readonly retirementHooks: PlatformRetirementHooks,
  ) {}

  onModuleInit(): void {
    this.credentialUsage.register('backup schedules', (userId, credentialId) =>
      this.schedules.usingCredential(userId, credentialId),
    );
    this.retirementHooks.register((platformId) => this.schedules.deleteAllOf(platformId));
  }
}
