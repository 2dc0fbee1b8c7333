import { Column, JoinColumn, ManyToOne } from 'typeorm';
import { User } from './user.entity';

/** Columns of every record a user owns: deleting the user deletes the record. */
export abstract class UserOwned {
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: User;
}
