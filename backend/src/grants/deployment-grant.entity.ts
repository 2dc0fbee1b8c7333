import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

/**
 * Lets one background deployment use the user's data key without the password: the key wrapped
 * by the server key, bound to the deployment id, expiring, deleted when the deployment ends.
 */
@Entity('deployment_grants')
export class DeploymentGrant extends UserOwned {
  /** The deployment id this grant is bound to. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  deploymentId!: string;

  @Column({ type: 'text' })
  wrappedDataKey!: string;

  @Column({ type: Date })
  expiresAt!: Date;

  @CreateDateColumn()
  createdAt!: Date;
}
