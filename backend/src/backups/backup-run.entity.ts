import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { Platform } from '../platforms/platform.entity';
import { UserOwned } from '../users/user-owned';

export type BackupRunKind = 'backup' | 'restore' | 'drill';
export type BackupRunStatus = 'running' | 'succeeded' | 'failed';

/**
 * One backup of a platform into its bucket, one restore of a stored backup into a platform, or one
 * restore drill (a schedule's newest backup restored into a scratch container on the host): what
 * the platform's Backups list shows. Its id is its deployment's (the live log), except for a
 * scheduled run that could not start (then `deploymentId` is null and `error` says why).
 */
@Entity('backup_runs')
@Index(['platformId', 'startedAt'])
export class BackupRun extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  @Column({ type: 'varchar', length: 16 })
  kind!: BackupRunKind;

  /** The schedule of a backup (null once the schedule is deleted, and for a restore). */
  @Column({ type: 'varchar', length: 36, nullable: true })
  scheduleId!: string | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  deploymentId!: string | null;

  /** The `s3` credential of the bucket. */
  @Column({ type: 'varchar', length: 36 })
  credentialId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: BackupRunStatus;

  /** The backup's object in the bucket (a restore's source); null until a backup stored one. */
  @Column({ type: 'text', nullable: true })
  objectKey!: string | null;

  /** The stored (encrypted) object's size and SHA-256. */
  @Column({ type: 'bigint', nullable: true, transformer: { to: (v) => v, from: toNumber } })
  bytes!: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256!: string | null;

  @Column({ type: 'integer', nullable: true })
  durationMs!: number | null;

  /** Backups that retention deleted after this one was stored. */
  @Column({ type: 'integer', nullable: true })
  pruned!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /**
   * A restore's per-backup key, sealed under the owner's data key (AAD: this run's id): the key
   * the user gave for a backup made elsewhere, or the one opened from its manifest.
   */
  @Column({ type: 'text', nullable: true })
  sealedBackupKey!: string | null;

  /** A drill's backup: when it was made. */
  @Column({ type: Date, nullable: true })
  backupCreatedAt!: Date | null;

  /** A drill's proof: the readings the restored copy holds, and the newest one's time. */
  @Column({ type: 'bigint', nullable: true, transformer: { to: (v) => v, from: toNumber } })
  readingsCount!: number | null;

  /** The recovery point a drill proved: the newest reading time in the restored copy. */
  @Column({ type: Date, nullable: true })
  recoveryPointAt!: Date | null;

  @CreateDateColumn()
  startedAt!: Date;

  @Column({ type: Date, nullable: true })
  finishedAt!: Date | null;
}

function toNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}
