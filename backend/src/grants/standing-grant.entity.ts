import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

/**
 * Lets work that runs without a session (a backup schedule, an alert channel) open the user's
 * data key: the key wrapped by the server key, bound to the grant id, the user and its purpose
 * (DESIGN §11 "Work without a session"). Created only on the user's explicit request, listed on
 * the account page, revocable, deleted with what it serves.
 */
@Entity('standing_grants')
@Index(['userId', 'purpose'], { unique: true })
export class StandingGrant extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** What the grant serves, `<kind>:<id>` (e.g. `backup-schedule:<schedule id>`). */
  @Column({ type: 'varchar', length: 128 })
  purpose!: string;

  @Column({ type: 'text' })
  wrappedDataKey!: string;

  @CreateDateColumn()
  createdAt!: Date;

  @Column({ type: Date, nullable: true })
  lastUsedAt!: Date | null;
}
