import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { Platform } from '../platforms/platform.entity';
import { UserOwned } from '../users/user-owned';

/** How a device logs in: a password, a client certificate of the platform CA, or either. */
export type DeviceAuthKind = 'password' | 'certificate' | 'both';
export const DEVICE_AUTH_KINDS: readonly DeviceAuthKind[] = ['password', 'certificate', 'both'];

export type DeviceStatus = 'active' | 'revoked';
export const DEVICE_STATUSES: readonly DeviceStatus[] = ['active', 'revoked'];

/** One device of a platform's fleet: its broker login (the name) and what the user knows of it. */
@Entity('devices')
@Index(['platformId', 'name'])
export class Device extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  /** A DNS label: the broker username and MQTT client id. */
  @Column({ type: 'varchar', length: 63 })
  name!: string;

  /** `<platformId>:<name>` while active; its unique index keeps active names unique per platform. */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 128, nullable: true })
  activeName!: string | null;

  @Column({ type: 'simple-json' })
  labels!: Record<string, string>;

  /** Free, non-secret facts (hardware, firmware, location…). */
  @Column({ type: 'simple-json' })
  metadata!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16 })
  authKind!: DeviceAuthKind;

  /** May also publish to MyT's fanout exchange `data` (which no routing key restricts). */
  @Column({ type: 'boolean' })
  legacyFanout!: boolean;

  /**
   * The broker password sealed under the owner's data key (AAD: platform id and
   * `device:<name>`, as platforms sealed their launch devices); null once revoked, and for a
   * certificate-only device.
   */
  @Column({ type: 'text', nullable: true })
  password!: string | null;

  /**
   * When the current password was last shown: at creation and rotation (in their answers), or by
   * the one reveal of a launch device's password. Null: a launch password nobody has seen yet.
   */
  @Column({ type: Date, nullable: true })
  passwordRevealedAt!: Date | null;

  /** The current client certificate (public; CN = name), for `certificate` and `both`. */
  @Column({ type: 'text', nullable: true })
  certificatePem!: string | null;

  @Column({ type: Date, nullable: true })
  certificateExpiresAt!: Date | null;

  @CreateDateColumn()
  createdAt!: Date;

  @Column({ type: Date, nullable: true })
  rotatedAt!: Date | null;

  @Column({ type: Date, nullable: true })
  revokedAt!: Date | null;
}
