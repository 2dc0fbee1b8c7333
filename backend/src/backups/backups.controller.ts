import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { BackupRestores } from './backup-restores.service';
import { BackupRuns } from './backup-runs.service';
import {
  BackupKeyDto,
  BackupObjectInput,
  BackupRunDto,
  DrillAcceptedDto,
  RestoreAcceptedDto,
  RestoreBackupInput,
  RunNowAcceptedDto,
  StoredBackupDto,
} from './dto/backup-run.dto';

@ApiTags('backups')
@ApiBearerAuth()
@Controller('platforms/:id')
export class PlatformBackupsController {
  constructor(
    private readonly runs: BackupRuns,
    private readonly restores: BackupRestores,
  ) {}

  @Get('backups')
  @ApiOkResponse({
    type: [BackupRunDto],
    description: "The platform's backup runs and restores, newest first (the last 100)",
  })
  listBackupRuns(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
  ): Promise<BackupRunDto[]> {
    return this.runs.list(auth.userId, platformId);
  }

  @Post('backup-schedules/:scheduleId/drill')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: DrillAcceptedDto,
    description:
      "Starts a restore drill now (a `restore-drill` deployment): the schedule's newest backup is verified, restored into a scratch container on the host (never the platform's database) and its readings counted; the run records the recovery point it proved",
  })
  drillBackupNow(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
    @Param('scheduleId', ParseUUIDPipe) scheduleId: string,
  ): Promise<DrillAcceptedDto> {
    return this.runs.drillNow(auth, platformId, scheduleId);
  }

  @Post('backup-schedules/:scheduleId/run')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: RunNowAcceptedDto,
    description: 'Starts a run of the schedule now (a `backup` deployment with a live log)',
  })
  runBackupNow(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
    @Param('scheduleId', ParseUUIDPipe) scheduleId: string,
  ): Promise<RunNowAcceptedDto> {
    return this.runs.runNow(auth, platformId, scheduleId);
  }

  @Post('backups/restore')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: RestoreAcceptedDto,
    description:
      "Checks the backup's manifest (present, the platform's dump format, a key that opens it) and answers at once with a `restore-backup` deployment. Its first step, `verify`, reads the whole backup back (checksum, decryption, archive structure) and fails the deployment before the host is touched when it does not verify; then the database content is replaced",
  })
  restoreBackup(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
    @Body() body: RestoreBackupInput,
  ): Promise<RestoreAcceptedDto> {
    return this.restores.restore(auth, platformId, body);
  }
}

@ApiTags('backups')
@ApiBearerAuth()
@Controller('credentials/:id/backups')
export class StoredBackupsController {
  constructor(private readonly restores: BackupRestores) {}

  @Get()
  @ApiOkResponse({
    type: [StoredBackupDto],
    description:
      "Every backup the bucket holds under the credential's prefix (any platform, any install), newest first",
  })
  listStoredBackups(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) credentialId: string,
  ): Promise<StoredBackupDto[]> {
    return this.restores.listStored(auth, credentialId);
  }

  @Post('key')
  @HttpCode(200)
  @ApiOkResponse({
    type: BackupKeyDto,
    description: "One backup's key, to restore it on another install or account",
  })
  revealBackupKey(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) credentialId: string,
    @Body() body: BackupObjectInput,
  ): Promise<BackupKeyDto> {
    return this.restores.backupKey(auth, credentialId, body);
  }
}
