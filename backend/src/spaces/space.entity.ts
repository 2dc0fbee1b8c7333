import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

/** Clouds whose platforms live in a Space; GCP and ssh-host platforms need none (DESIGN §2). */
export type SpaceTarget = 'aws' | 'openstack';
export const SPACE_TARGETS: readonly SpaceTarget[] = ['aws', 'openstack'];

export type SpaceStatus = 'creating' | 'ready' | 'failed' | 'deleting' | 'deleted';

@Entity('spaces')
export class Space extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  /** `<userId>:<name>` until the space is deleted; its unique index keeps live names unique. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 128, nullable: true })
  activeName!: string | null;

  @Column({ type: 'varchar', length: 16 })
  target!: SpaceTarget;

  @Column({ type: 'varchar', length: 36 })
  credentialId!: string;

  /** The cloud-specific, non-secret input (region, CIDRs, OpenStack network choice…). */
  @Column({ type: 'simple-json' })
  options!: Record<string, string | number | boolean | string[]>;

  @Column({ type: 'varchar', length: 16 })
  status!: SpaceStatus;

  /** Terraform outputs platforms build on (VPC, subnet, security group…); set once ready. */
  @Column({ type: 'simple-json', nullable: true })
  outputs!: Record<string, string> | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
