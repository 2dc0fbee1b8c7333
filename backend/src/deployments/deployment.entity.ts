import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

export type DeploymentTargetKind = 'space' | 'platform';
export type DeploymentAction =
  | 'launch'
  | 'destroy'
  | 'update-processor'
  | 'dump'
  | 'restore'
  | 'health-check'
  | 'backup'
  | 'restore-backup'
  | 'restore-drill'
  | 'device-import'
  | 'readings-retention'
  | 'reading-alerts';
export type DeploymentStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINISHED_STATUSES: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled'];

/** One run of one action on one Space or Platform (DESIGN §2). */
@Entity('deployments')
@Index(['targetId', 'createdAt'])
export class Deployment extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  targetKind!: DeploymentTargetKind;

  @Column({ type: 'varchar', length: 36 })
  targetId!: string;

  @Column({ type: 'varchar', length: 32 })
  action!: DeploymentAction;

  @Column({ type: 'varchar', length: 16 })
  status!: DeploymentStatus;

  /**
   * `<kind>:<id>` while the deployment is queued or running, NULL once finished. Its unique
   * index is what allows only one active deployment per target, across processes.
   */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  activeKey!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  step!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn()
  createdAt!: Date;

  @Column({ type: Date, nullable: true })
  startedAt!: Date | null;

  @Column({ type: Date, nullable: true })
  finishedAt!: Date | null;
}
