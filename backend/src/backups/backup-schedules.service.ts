import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { CredentialsService } from '../credentials/credentials.service';
import { StandingGrants } from '../grants/standing-grants.service';
import { PlatformRecords } from '../platforms/platform-records';
import { checkedCron, drillCron, nextRun, PRESETS } from './backup-cron';
import { BackupRuns, drillUnsupported } from './backup-runs.service';
import { BackupSchedule } from './backup-schedule.entity';
import type { BackupScheduleDto, CreateBackupScheduleInput } from './dto/backup-schedule.dto';

const DEFAULT_KEEP_LAST = 7;

export const schedulePurpose = (scheduleId: string) => `backup-schedule:${scheduleId}`;

const badField = (code: string, field: string, message: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, code, message, [{ field, problems: [message] }]);

/**
 * A platform's backup schedules. Creating one issues the standing grant its runs need (the
 * caller's session is live then); deleting it revokes that grant.
 */
@Injectable()
export class BackupSchedules {
  constructor(
    @InjectRepository(BackupSchedule) private readonly schedules: Repository<BackupSchedule>,
    private readonly platforms: PlatformRecords,
    private readonly credentials: CredentialsService,
    private readonly grants: StandingGrants,
    private readonly runs: BackupRuns,
  ) {}

  async create(
    auth: AuthContext,
    platformId: string,
    input: CreateBackupScheduleInput,
  ): Promise<BackupScheduleDto> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const drill = input.drill ?? 'off';
    if (drill === 'weekly') {
      const unsupported = drillUnsupported(platform.database);
      if (unsupported) throw unsupported;
    }
    if ((input.preset === undefined) === (input.cron === undefined)) {
      throw badField('VALIDATION_FAILED', 'cron', 'give either preset or cron, not both');
    }
    const cron = input.preset ? PRESETS[input.preset] : input.cron!.trim();
    checkedCron(cron);
    const credential = await this.credentials.get(auth.userId, input.credentialId);
    if (credential.type !== 's3') {
      throw badField(
        'CREDENTIAL_NOT_S3',
        'credentialId',
        `Credential "${credential.name}" is ${credential.type}; backups need an s3 credential`,
      );
    }
    const id = randomUUID();
    const grantId = await this.grants.issue(auth, schedulePurpose(id));
    try {
      await this.schedules.insert({
        id,
        userId: auth.userId,
        platformId,
        credentialId: credential.id,
        cron,
        preset: input.preset ?? null,
        keepLast: input.keepLast ?? DEFAULT_KEEP_LAST,
        keepDaily: input.keepDaily ?? 0,
        keepWeekly: input.keepWeekly ?? 0,
        drill,
        grantId,
      });
      await this.runs.arm(await this.schedules.findOneByOrFail({ id }));
    } catch (error) {
      await this.runs.disarm(id);
      await this.schedules.delete({ id });
      await this.grants.revokeFor(auth.userId, schedulePurpose(id));
      throw error;
    }
    return toDto(await this.schedules.findOneByOrFail({ id }));
  }

  async list(userId: string, platformId: string): Promise<BackupScheduleDto[]> {
    await this.platforms.getOwned(userId, platformId);
    const found = await this.schedules.find({
      where: { userId, platformId },
      order: { createdAt: 'ASC' },
    });
    return found.map(toDto);
  }

  async delete(userId: string, platformId: string, id: string): Promise<void> {
    const schedule = await this.schedules.findOneBy({ id, userId, platformId });
    if (!schedule) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'BACKUP_SCHEDULE_NOT_FOUND', 'No such schedule');
    }
    await this.retire(schedule);
  }

  /**
   * Disarms the schedulers (backup and drill) and revokes the grant before the row goes: if either fails, the row is
   * still there, so a second delete (or removal hook) finds it and finishes the job.
   */
  private async retire(schedule: BackupSchedule): Promise<void> {
    await this.runs.disarm(schedule.id);
    await this.grants.revokeFor(schedule.userId, schedulePurpose(schedule.id));
    await this.schedules.delete({ id: schedule.id });
  }

  /**
   * A destroyed or removed platform's schedules go, each with its standing grant and job
   * scheduler: nothing keeps a key open for a platform that no longer runs. Idempotent.
   */
  async deleteAllOf(platformId: string): Promise<void> {
    for (const schedule of await this.schedules.findBy({ platformId })) {
      await this.retire(schedule);
    }
  }

  /** For the worker, which acts on ids from job payloads; null once deleted. */
  findById(id: string): Promise<BackupSchedule | null> {
    return this.schedules.findOneBy({ id });
  }

  /** For the 409 when the credential is deleted while schedules still use it. */
  async usingCredential(userId: string, credentialId: string): Promise<string[]> {
    const found = await this.schedules.findBy({ userId, credentialId });
    return found.map((schedule) => `${schedule.cron} of platform ${schedule.platformId}`);
  }
}

function toDto(schedule: BackupSchedule): BackupScheduleDto {
  return {
    id: schedule.id,
    platformId: schedule.platformId,
    credentialId: schedule.credentialId,
    cron: schedule.cron,
    preset: schedule.preset,
    keepLast: schedule.keepLast,
    keepDaily: schedule.keepDaily,
    keepWeekly: schedule.keepWeekly,
    drill: schedule.drill,
    nextDrillAt:
      schedule.drill === 'weekly' ? nextRun(drillCron(schedule.cron, schedule.createdAt)) : null,
    grantId: schedule.grantId,
    nextRunAt: nextRun(schedule.cron),
    createdAt: schedule.createdAt,
  };
}
