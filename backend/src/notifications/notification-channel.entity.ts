import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

export const CHANNEL_KINDS = ['webhook', 'ntfy', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** An email channel's SMTP server and addresses (the password is sealed in `secret`). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (465); otherwise STARTTLS, required: never a plaintext session. */
  tls: boolean;
  username: string | null;
  /**
   * The CA that signed the server's certificate, for a server with a private CA; the system's
   * trusted CAs when null (absent in channels saved before it existed).
   */
  caCertificatePem?: string | null;
  from: string;
  to: string;
}

/** Where a user's alerts go (issue 17): a signed webhook, an ntfy-style topic or email. */
@Entity('notification_channels')
export class NotificationChannel extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: ChannelKind;

  /** The webhook's URL, the ntfy topic's URL (`https://ntfy.sh/<topic>`), or `mailto:<to>`. */
  @Column({ type: 'text' })
  url!: string;

  /** email: the SMTP server and addresses. */
  @Column({ type: 'simple-json', nullable: true })
  smtp!: SmtpSettings | null;

  /**
   * webhook: the Standard Webhooks signing secret; email: the SMTP password. Sealed under the
   * owner's data key.
   */
  @Column({ type: 'text', nullable: true })
  secret!: string | null;

  /** The standing grant that lets the worker open `secret` without a session. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  grantId!: string | null;

  @CreateDateColumn()
  createdAt!: Date;
}
