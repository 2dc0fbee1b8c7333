import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { BackupSchedules } from './backup-schedules.service';
import { BackupScheduleDto, CreateBackupScheduleInput } from './dto/backup-schedule.dto';

@ApiTags('backups')
@ApiBearerAuth()
@Controller('platforms/:id/backup-schedules')
export class BackupSchedulesController {
  constructor(private readonly schedules: BackupSchedules) {}

  @Post()
  @ApiCreatedResponse({
    type: BackupScheduleDto,
    description:
      'Also issues a standing grant: its runs open your secrets without you signed in, until you delete the schedule or revoke the grant',
  })
  createBackupSchedule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
    @Body() body: CreateBackupScheduleInput,
  ): Promise<BackupScheduleDto> {
    return this.schedules.create(auth, platformId, body);
  }

  @Get()
  @ApiOkResponse({ type: [BackupScheduleDto] })
  listBackupSchedules(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
  ): Promise<BackupScheduleDto[]> {
    return this.schedules.list(auth.userId, platformId);
  }

  @Delete(':scheduleId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deletes the schedule and revokes its standing grant' })
  async deleteBackupSchedule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) platformId: string,
    @Param('scheduleId', ParseUUIDPipe) scheduleId: string,
  ): Promise<void> {
    await this.schedules.delete(auth.userId, platformId, scheduleId);
  }
}
