import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialUsage } from '../credentials/credential-usage';
import { CredentialsModule } from '../credentials/credentials.module';
import { GrantsModule } from '../grants/grants.module';
import { PlatformsModule } from '../platforms/platforms.module';
import { BackupSchedule } from './backup-schedule.entity';
import { BackupSchedulesController } from './backup-schedules.controller';
import { BackupSchedules } from './backup-schedules.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([BackupSchedule]),
    CredentialsModule,
    GrantsModule,
    PlatformsModule,
  ],
  controllers: [BackupSchedulesController],
  providers: [BackupSchedules],
})
export class BackupsModule implements OnModuleInit {
  constructor(
    private readonly credentialUsage: CredentialUsage,
    private readonly schedules: BackupSchedules,
  ) {}

  onModuleInit(): void {
    this.credentialUsage.register('backup schedules', (userId, credentialId) =>
      this.schedules.usingCredential(userId, credentialId),
    );
  }
}
