import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../users/user.entity';

/**
 * Lets one background deployment use the user's data key without the password: the key wrapped
 * by the server key, bound to the deployment id, expiring, deleted when the deployment ends.
 */
@Entity('deployment_grants')
export class DeploymentGrant {
  /** The deployment id this grant is bound to. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  deploymentId!: string;

  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: User;

  @Column({ type: 'text' })
  wrappedDataKey!: string;

  @Column({ type: Date })
  expiresAt!: Date;

  @CreateDateColumn()
  createdAt!: Date;
}
