import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

/** One signed-in device. Holds the data key wrapped by the server key so jobs can use it. */
@Entity('sessions')
@Index(['userId'])
export class Session extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** SHA-256 of the only refresh token currently valid for this session. */
  @Column({ type: 'varchar', length: 64 })
  refreshTokenHash!: string;

  /**
   * SHA-256 of the token this session rotated away from. Presenting it again means a copy of it
   * is in use, so the session is revoked; any other wrong token is just rejected.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  previousRefreshTokenHash!: string | null;

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
