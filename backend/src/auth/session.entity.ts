import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { User } from '../users/user.entity';

/** One signed-in device. Holds the data key wrapped by the server key so jobs can use it. */
@Entity('sessions')
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'userId' })
  user?: User;

  /** SHA-256 of the only refresh token currently valid for this session. */
  @Column({ type: 'varchar', length: 64 })
  refreshTokenHash!: string;

  @Column({ type: 'text' })
  wrappedDataKey!: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @CreateDateColumn()
  createdAt!: Date;

  @Column({ type: Date })
  lastUsedAt!: Date;

  @Column({ type: Date })
  expiresAt!: Date;
}
