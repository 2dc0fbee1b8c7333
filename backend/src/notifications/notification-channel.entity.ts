import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

export const CHANNEL_KINDS = ['webhook', 'ntfy'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** Where a user's alerts go (issue 17): a signed webhook or an ntfy-style topic. */
@Entity('notification_channels')
export class NotificationChannel extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: ChannelKind;

  /** The webhook's URL, or the ntfy topic's URL (`https://ntfy.sh/<topic>`). */
  @Column({ type: 'text' })
  url!: string;

  /** webhook: the Standard Webhooks signing secret, sealed under the owner's data key. */
  @Column({ type: 'text', nullable: true })
  secret!: string | null;

  /** The standing grant that lets the worker open `secret` without a session. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  grantId!: string | null;

  @CreateDateColumn()
  createdAt!: Date;
}
