import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Platform } from '../platforms/platform.entity';
import type { HealthStatus } from '../platforms/platform.entity';

/**
 * What the minute's health check saw of one running platform (issue 17): its health, and while
 * the host could be read, the processor's counters and figures. Counters are the processor's
 * totals since it started (`processorStartedAt`); rates come from two samples' difference.
 */
@Entity('platform_metric_samples')
export class PlatformMetricSample {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  /** Indexed for pruning (samples older than the kept time go, whichever platform). */
  @Index()
  @PrimaryColumn({ type: Date })
  sampledAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  status!: HealthStatus;

  /** When the processor that counted started: a new start resets its counters. */
  @Column({ type: Date, nullable: true })
  processorStartedAt!: Date | null;

  /** Messages taken from the queue, since the processor started. */
  @Column({ type: 'double precision', nullable: true })
  messagesIn!: number | null;

  /** Readings the database confirmed, since the processor started. */
  @Column({ type: 'double precision', nullable: true })
  readingsStored!: number | null;

  /** Messages dead-lettered, since the processor started. */
  @Column({ type: 'double precision', nullable: true })
  messagesFailed!: number | null;

  @Column({ type: 'double precision', nullable: true })
  queueDepth!: number | null;

  @Column({ type: Date, nullable: true })
  lastReadingAt!: Date | null;

  @Column({ type: 'double precision', nullable: true })
  batchLatencyP50Ms!: number | null;

  @Column({ type: 'double precision', nullable: true })
  batchLatencyP99Ms!: number | null;

  @Column({ type: 'double precision', nullable: true })
  endToEndLatencyP50Ms!: number | null;

  @Column({ type: 'double precision', nullable: true })
  endToEndLatencyP99Ms!: number | null;

  /** Active devices with a broker connection; null when the broker could not be asked. */
  @Column({ type: 'integer', nullable: true })
  devicesOnline!: number | null;

  /** Active (not revoked) devices in the registry; null in samples from before it was kept. */
  @Column({ type: 'integer', nullable: true })
  devicesTotal!: number | null;
  /** The data volume's use on the host (`df`), percent. */
  @Column({ type: 'double precision', nullable: true })
  diskUsedPercent!: number | null;

  @Column({ type: 'double precision', nullable: true })
  diskBytesFree!: number | null;
}
