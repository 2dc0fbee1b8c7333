import { Column, Entity } from 'typeorm';
import { UserOwnedTarget } from '../users/user-owned-target';

/** Clouds whose platforms live in a Space; GCP and ssh-host platforms need none (DESIGN §2). */
export type SpaceTarget = 'aws' | 'openstack';
export const SPACE_TARGETS: readonly SpaceTarget[] = ['aws', 'openstack'];

export type SpaceStatus = 'creating' | 'ready' | 'failed' | 'deleting' | 'deleted';

@Entity('spaces')
export class Space extends UserOwnedTarget<SpaceTarget> {
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
}
