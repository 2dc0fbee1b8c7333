import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { NotificationChannel } from './notification-channel.entity';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One attempt's outcome: the receiver's exact answer, or why there was none. */
export interface DeliveryAttempt {
  at: string;
  ok: boolean;
  answer: string;
}

/** What goes out: names and figures only, never a secret or a reading's contents. */
export interface NotificationMessage {
  title: string;
  text: string;
  /** e.g. alert.fired, alert.resolved, channel.test */
  type: string;
  platformId: string | null;
}

/** One message to one channel, with every attempt (the channel's delivery log). */
@Entity('notification_deliveries')
@Index(['channelId', 'createdAt'])
export class NotificationDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  channelId!: string;

  @ManyToOne(() => NotificationChannel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'channelId' })
  channel?: NotificationChannel;

  @Column({ type: 'simple-json' })
  message!: NotificationMessage;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'simple-json' })
  attempts!: DeliveryAttempt[];

  @CreateDateColumn()
  createdAt!: Date;
}
