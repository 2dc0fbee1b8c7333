import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import type { ReadingAlertOperator } from '@fieldstation/platform-stack';
import { Platform } from '../platforms/platform.entity';
import { UserOwned } from '../users/user-owned';

export const ALERT_KINDS = [
  'platform-unhealthy',
  'device-silent',
  'dead-letter-rate',
  'queue-depth',
  'disk-use',
  'backup-failed',
  'certificate-expiring',
  'reading-threshold',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type AlertState = 'ok' | 'firing';

/** One alert rule of a platform, with its firing state (evaluated by the worker each minute). */
@Entity('alert_rules')
export class AlertRule extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  @Column({ type: 'varchar', length: 32 })
  kind!: AlertKind;

  /**
   * How long the condition must hold (platform-unhealthy, queue-depth, reading-threshold), a
   * device may stay silent (device-silent), or the window the dead-letter rate is measured over;
   * unused (0) by backup-failed and certificate-expiring, which judge stored records, not a span
   * of samples.
   */
  @Column({ type: 'integer' })
  minutes!: number;

  /**
   * dead-letter-rate: messages per minute; queue-depth: messages waiting; disk-use: percent;
   * certificate-expiring: days before expiry; reading-threshold: the value the field is compared
   * with.
   */
  @Column({ type: 'double precision', nullable: true })
  threshold!: number | null;

  /** reading-threshold: the readings' measurement and field (strict names: they reach a query). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  measurement!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  field!: string | null;

  /** reading-threshold: `>`, `>=`, `<` or `<=`. */
  @Column({ type: 'varchar', length: 2, nullable: true })
  operator!: ReadingAlertOperator | null;

  /** device-silent, reading-threshold: one device by name… */
  @Column({ type: 'varchar', length: 63, nullable: true })
  device!: string | null;

  /** …or every device with this `key:value` label (neither: every device). */
  @Column({ type: 'varchar', length: 320, nullable: true })
  label!: string | null;

  /** While firing, notify again after this long. */
  @Column({ type: 'integer' })
  reNotifyMinutes!: number;

  /** No notification before this time (the state and history are still kept). */
  @Column({ type: Date, nullable: true })
  mutedUntil!: Date | null;

  @Column({ type: 'varchar', length: 8 })
  state!: AlertState;

  @Column({ type: Date, nullable: true })
  firingSince!: Date | null;

  @Column({ type: Date, nullable: true })
  lastNotifiedAt!: Date | null;

  /** What the latest evaluation found (figures and names only). */
  @Column({ type: 'text', nullable: true })
  detail!: string | null;

  @CreateDateColumn()
  createdAt!: Date;
}
