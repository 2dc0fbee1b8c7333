import { Column, CreateDateColumn, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { UserOwned } from './user-owned';

/**
 * Columns of what a user launches on a cloud credential (a space, a platform): a name that is
 * unique among the user's live ones, the target it runs on and the credential it runs with.
 */
export abstract class UserOwnedTarget<Target extends string> extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  /** `<userId>:<name>` until it is deleted or destroyed; its unique index keeps live names unique. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 128, nullable: true })
  activeName!: string | null;

  @Column({ type: 'varchar', length: 16 })
  target!: Target;

  @Column({ type: 'varchar', length: 36 })
  credentialId!: string;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
