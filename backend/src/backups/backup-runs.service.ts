import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { DatabaseChoice } from '@fieldstation/platform-stack';
import { Repository } from 'typeorm';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { DataKey } from '../crypto/data-key';
import { DeploymentStarter } from '../deployments/deployment-starter';
import type { DeploymentTarget } from '../deployments/deployments.service';
import { GrantUnavailableError } from '../grants/deployment-grants.service';
import { StandingGrants } from '../grants/standing-grants.service';
import { JobName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { PlatformRecords } from '../platforms/platform-records';
import { DRILLABLE_DATABASES } from '../provision/restore-drill-plan';
import { BackupRun } from './backup-run.entity';
import { drillCron } from './backup-cron';
import { BackupSchedule } from './backup-schedule.entity';
import type { BackupRunDto } from './dto/backup-run.dto';

/** The BullMQ job scheduler of a backup schedule. */
export const schedulerIdOf = (scheduleId: string) => `backup-schedule:${scheduleId}`;

/** The BullMQ job scheduler of a schedule's weekly restore drill. */
export const drillSchedulerIdOf = (scheduleId: string) => `backup-drill:${scheduleId}`;

/** Why a platform of this database cannot be drilled (422 DRILL_UNSUPPORTED), or null. */
export function drillUnsupported(database: DatabaseChoice): ApiError | null {
  if (DRILLABLE_DATABASES.includes(database)) return null;
  return new ApiError(
    HttpStatus.UNPROCESSABLE_ENTITY,
    'DRILL_UNSUPPORTED',
    `Restore drills restore PostgreSQL, TimescaleDB and InfluxDB dumps; this platform's database is ${database}`,
  );
}

/** Columns only a drill's run fills. */
type DrillFigure = 'backupCreatedAt' | 'readingsCount' | 'recoveryPointAt';

type StartDeployment = (
  target: DeploymentTarget,
  prepare: (deploymentId: string) => Promise<void>,
) => Promise<string>;

/**
 * Runs of backup schedules: each schedule has a BullMQ job scheduler (its cron, UTC) whose job
 * starts a `backup` deployment without any session, through the schedule's standing grant; "run
 * now" starts the same from the user's session. Every run is a row the platform lists, also a
 * turn that could not start (grant revoked, platform busy or not running): never silently skipped.
 */
@Injectable()
export class BackupRuns implements OnApplicationBootstrap {
  private readonly logger = new Logger(BackupRuns.name);

  constructor(
    @InjectRepository(BackupRun) private readonly runs: Repository<BackupRun>,
    @InjectRepository(BackupSchedule) private readonly schedules: Repository<BackupSchedule>,
    private readonly jobs: JobQueue,
    private readonly starter: DeploymentStarter,
    private readonly grants: StandingGrants,
    private readonly platforms: PlatformRecords,
  ) {}

  /** Every process re-arms the stored schedules (idempotent): Redis may have lost them. */
  async onApplicationBootstrap(): Promise<void> {
    for (const schedule of await this.schedules.find()) await this.arm(schedule);
  }

  /** Its backup scheduler, and its weekly drill's when the drill is on. */
  async arm(schedule: Pick<BackupSchedule, 'id' | 'cron' | 'drill' | 'createdAt'>): Promise<void> {
    await this.jobs.scheduleCron(schedulerIdOf(schedule.id), schedule.cron, {
      name: JobName.BackupScheduled,
      data: { scheduleId: schedule.id },
    });
    if (schedule.drill === 'weekly') {
      await this.jobs.scheduleCron(
        drillSchedulerIdOf(schedule.id),
        drillCron(schedule.cron, schedule.createdAt),
        { name: JobName.BackupDrillScheduled, data: { scheduleId: schedule.id } },
      );
    } else {
      await this.jobs.unschedule(drillSchedulerIdOf(schedule.id));
    }
  }

  async disarm(scheduleId: string): Promise<void> {
    await this.jobs.unschedule(drillSchedulerIdOf(scheduleId));
    await this.jobs.unschedule(schedulerIdOf(scheduleId));
  }

  /** A schedule's turn, with nobody signed in: the standing grant opens the data key. */
  async startScheduled(scheduleId: string): Promise<void> {
    const turn = await this.openScheduled(scheduleId, 'backup');
    if (!turn) return;
    const { schedule, dataKey } = turn;
    await this.start(schedule, 'scheduled', (target, prepare) =>
      this.starter.startWithKey(
        schedule.userId,
        dataKey,
        target,
        'backup',
        JobName.PlatformBackup,
        prepare,
      ),
    );
  }

  /**
   * A schedule's weekly restore drill, with nobody signed in (its standing grant). A drill that
   * cannot start (grant revoked, database not drillable, platform not running or busy) is a failed
   * drill run on the platform's list.
   */
  async startScheduledDrill(scheduleId: string): Promise<void> {
    const turn = await this.openScheduled(scheduleId, 'drill');
    if (!turn) return;
    const { schedule, dataKey } = turn;
    const platform = await this.platforms.getById(schedule.platformId);
    const refusal =
      drillUnsupported(platform.database)?.message ??
      (platform.status === 'running'
        ? null
        : `The platform is ${platform.status}, not running: a drill needs its host`);
    if (refusal) {
      await this.recordNotStarted(schedule, refusal, 'drill');
      return;
    }
    try {
      await this.starter.startWithKey(
        schedule.userId,
        dataKey,
        { kind: 'platform', id: platform.id },
        'restore-drill',
        JobName.PlatformRestoreDrill,
        (id) => this.insertDrill(schedule, id),
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.getStatus() !== 409) throw error;
      this.logger.warn(`drill of backup schedule ${schedule.id}: ${error.message}`);
      await this.recordNotStarted(schedule, `Not started: ${error.message}`, 'drill');
    }
  }

  /** "Run now": the same run from the user's session; 409 while the platform is busy. */
  async runNow(
    auth: AuthContext,
    platformId: string,
    scheduleId: string,
  ): Promise<{ deploymentId: string }> {
    await this.platforms.getOwned(auth.userId, platformId);
    const schedule = await this.schedules.findOneBy({
      id: scheduleId,
      userId: auth.userId,
      platformId,
    });
    if (!schedule) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'BACKUP_SCHEDULE_NOT_FOUND', 'No such schedule');
    }
    const deploymentId = await this.start(schedule, 'now', (target, prepare) =>
      this.starter.start(auth, target, 'backup', JobName.PlatformBackup, prepare),
    );
    return { deploymentId: deploymentId! };
  }

  /**
   * A restore drill of the schedule's newest backup now: a `restore-drill` deployment (its own run
   * row, kind `drill`) that restores it into a scratch container on the host. Not MongoDB;
   * 409 while the platform is busy or not running.
   */
  async drillNow(
    auth: AuthContext,
    platformId: string,
    scheduleId: string,
  ): Promise<{ deploymentId: string }> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const schedule = await this.schedules.findOneBy({
      id: scheduleId,
      userId: auth.userId,
      platformId,
    });
    if (!schedule) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'BACKUP_SCHEDULE_NOT_FOUND', 'No such schedule');
    }
    const unsupported = drillUnsupported(platform.database);
    if (unsupported) throw unsupported;
    if (platform.status !== 'running') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_NOT_RUNNING',
        `The platform is ${platform.status}; a drill reads its database image on its host`,
      );
    }
    const deploymentId = await this.starter.start(
      auth,
      { kind: 'platform', id: platform.id },
      'restore-drill',
      JobName.PlatformRestoreDrill,
      (id) => this.insertDrill(schedule, id),
    );
    return { deploymentId };
  }

  /** A drill's run row, written before its job is queued (the deployment's `prepare`). */
  private async insertDrill(schedule: BackupSchedule, deploymentId: string): Promise<void> {
    await this.runs.insert({
      id: deploymentId,
      userId: schedule.userId,
      platformId: schedule.platformId,
      kind: 'drill',
      scheduleId: schedule.id,
      deploymentId,
      credentialId: schedule.credentialId,
      status: 'running',
    });
  }

  /**
   * A scheduled turn's schedule and the data key its standing grant opens; null (after recording
   * a failed run when the grant is gone) when there is nothing to start.
   */
  private async openScheduled(
    scheduleId: string,
    kind: 'backup' | 'drill',
  ): Promise<{ schedule: BackupSchedule; dataKey: DataKey } | null> {
    const schedule = await this.schedules.findOneBy({ id: scheduleId });
    if (!schedule) {
      // Deleted (or its platform removed) after the turn was queued.
      await this.disarm(scheduleId);
      return null;
    }
    let opened;
    try {
      opened = await this.grants.open(schedule.grantId);
    } catch (error) {
      if (!(error instanceof GrantUnavailableError)) throw error;
      const resume = kind === 'drill' ? 'resume drills' : 'resume backups';
      await this.recordNotStarted(
        schedule,
        `The standing grant of this schedule was revoked: delete the schedule and create it again to ${resume}`,
        kind,
      );
      return null;
    }
    if (opened.userId !== schedule.userId)
      throw new Error(`Grant of schedule ${scheduleId} is another user's`);
    return { schedule, dataKey: opened.dataKey };
  }

  async list(userId: string, platformId: string): Promise<BackupRunDto[]> {
    await this.platforms.getOwned(userId, platformId);
    const runs = await this.runs.find({
      where: { userId, platformId },
      order: { startedAt: 'DESC' },
      take: 100,
    });
    return runs.map(toDto);
  }

  getById(id: string): Promise<BackupRun> {
    return this.runs.findOneByOrFail({ id });
  }

  async update(id: string, changes: Partial<BackupRun>): Promise<void> {
    await this.runs.update({ id }, changes);
  }

  async finish(id: string, outcome: { error: string } | Partial<BackupRun>): Promise<void> {
    await this.runs.update(
      { id },
      'error' in outcome && typeof outcome.error === 'string'
        ? { status: 'failed', error: outcome.error, finishedAt: new Date() }
        : { ...outcome, status: 'succeeded', finishedAt: new Date() },
    );
  }

  /** A restore's run row, written before its job is queued (the deployment's `prepare`). */
  async insertRestore(
    run: Omit<BackupRun, 'startedAt' | 'finishedAt' | 'user' | 'platform' | DrillFigure>,
  ) {
    await this.runs.insert(run);
  }

  /**
   * Starts the backup deployment of a schedule. A scheduled turn that cannot start (platform not
   * running, another deployment in progress) is recorded as a failed run; "run now" answers 409.
   */
  private async start(
    schedule: BackupSchedule,
    trigger: 'scheduled' | 'now',
    startDeployment: StartDeployment,
  ): Promise<string | undefined> {
    const platform = await this.platforms.getById(schedule.platformId);
    if (platform.status !== 'running') {
      const message = `The platform is ${platform.status}, not running: nothing to back up`;
      if (trigger === 'now') {
        throw new ApiError(HttpStatus.CONFLICT, 'PLATFORM_NOT_RUNNING', message);
      }
      await this.recordNotStarted(schedule, message);
      return undefined;
    }
    try {
      return await startDeployment({ kind: 'platform', id: platform.id }, (deploymentId) =>
        this.runs
          .insert({
            id: deploymentId,
            userId: schedule.userId,
            platformId: schedule.platformId,
            kind: 'backup',
            scheduleId: schedule.id,
            deploymentId,
            credentialId: schedule.credentialId,
            status: 'running',
          })
          .then(() => undefined),
      );
    } catch (error) {
      if (trigger === 'now' || !(error instanceof ApiError) || error.getStatus() !== 409) {
        throw error;
      }
      this.logger.warn(`backup schedule ${schedule.id}: ${error.message}`);
      await this.recordNotStarted(schedule, `Not started: ${error.message}`);
      return undefined;
    }
  }

  private async recordNotStarted(
    schedule: BackupSchedule,
    error: string,
    kind: 'backup' | 'drill' = 'backup',
  ): Promise<void> {
    await this.runs.insert({
      id: randomUUID(),
      userId: schedule.userId,
      platformId: schedule.platformId,
      kind,
      scheduleId: schedule.id,
      deploymentId: null,
      credentialId: schedule.credentialId,
      status: 'failed',
      error,
      finishedAt: new Date(),
    });
  }
}

function toDto(run: BackupRun): BackupRunDto {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    scheduleId: run.scheduleId,
    deploymentId: run.deploymentId,
    credentialId: run.credentialId,
    objectKey: run.objectKey,
    bytes: run.bytes,
    sha256: run.sha256,
    durationMs: run.durationMs,
    pruned: run.pruned,
    error: run.error,
    backupCreatedAt: run.backupCreatedAt,
    readingsCount: run.readingsCount,
    recoveryPointAt: run.recoveryPointAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}
