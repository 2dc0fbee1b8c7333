import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AlertRule } from './alert-rule.entity';

export type AlertEventKind = 'fired' | 'renotified' | 'resolved';

/** The history of a rule: each time it fired, was notified again while firing, or resolved. */
@Entity('alert_events')
@Index(['ruleId', 'at'])
export class AlertEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  ruleId!: string;

  @ManyToOne(() => AlertRule, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ruleId' })
  rule?: AlertRule;

  @Column({ type: Date })
  at!: Date;

  @Column({ type: 'varchar', length: 16 })
  kind!: AlertEventKind;

  /** Names and figures only: never a secret or a reading's contents. */
  @Column({ type: 'text' })
  message!: string;

  /** False while the rule was muted (or, for a resolve, when its firing was never notified). */
  @Column({ type: 'boolean' })
  notify!: boolean;
}
