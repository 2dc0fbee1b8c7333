import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Platform } from '../platforms/platform.entity';

/**
 * A deleted reading threshold whose Grafana rule may still exist: Grafana keeps a provisioned
 * rule that merely disappears from the file, so every render lists these as `deleteRules` until a
 * reload that listed them succeeded (then the row goes).
 */
@Entity('reading_alert_deletions')
@Index(['platformId'])
export class ReadingAlertDeletion {
  /** Grafana's rule uid (`fs-` and the rule id's 32 hex digits). */
  @PrimaryColumn({ type: 'varchar', length: 35 })
  uid!: string;

  @Column({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  @Column({ type: Date })
  deletedAt!: Date;
}
