import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Platform } from '../platforms/platform.entity';
import { UserOwned } from '../users/user-owned';

export type BackupPreset = 'hourly' | 'daily' | 'weekly';

/** Whether the schedule also restores its newest backup into a scratch container weekly. */
export type DrillCadence = 'off' | 'weekly';
export const DRILL_CADENCES: DrillCadence[] = ['off', 'weekly'];

/** When a platform's database is backed up, to which `s3` credential, and how many are kept. */
@Entity('backup_schedules')
export class BackupSchedule extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  /** The `s3` credential of the bucket. */
  @Column({ type: 'varchar', length: 36 })
  credentialId!: string;

  /** Five-field cron expression in UTC (a preset is stored as its expression too). */
  @Column({ type: 'varchar', length: 64 })
  cron!: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  preset!: BackupPreset | null;

  @Column({ type: 'integer' })
  keepLast!: number;

  /** Also keep the newest backup of each of the last N days that have one. */
  @Column({ type: 'integer', default: 0 })
  keepDaily!: number;

  /** Also keep the newest backup of each of the last N ISO weeks that have one. */
  @Column({ type: 'integer', default: 0 })
  keepWeekly!: number;

  /** A restore drill of the newest backup, weekly after one of the schedule's backups. */
  @Column({ type: 'varchar', length: 8, default: 'off' })
  drill!: DrillCadence;

  /** The standing grant the runs open the owner's data key with (DESIGN §11). */
  @Column({ type: 'varchar', length: 36 })
  grantId!: string;

  @CreateDateColumn()
  createdAt!: Date;
}
