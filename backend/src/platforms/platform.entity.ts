import type { DatabaseChoice, StackPorts } from '@fieldstation/platform-stack';
import { Column, Entity, Index } from 'typeorm';
import { UserOwnedTarget } from '../users/user-owned-target';
import type { PlatformStatus, PlatformStep } from './platform-lifecycle';

export type PlatformTarget = 'aws' | 'gcp' | 'openstack' | 'ssh-host';
export const PLATFORM_TARGETS: readonly PlatformTarget[] = ['aws', 'gcp', 'openstack', 'ssh-host'];

export type HealthStatus = 'healthy' | 'degraded' | 'unreachable';

export interface PlatformHealth {
  status: HealthStatus;
  reason: string | null;
  checkedAt: string;
  /** From the host (read only while the user has a live session): readings waiting. */
  queueDepth?: number | null;
  /** From the host: when the database last confirmed a reading. */
  lastReadingAt?: string | null;
  /** From the host: the data volume's use (`df` on the platform's data path). */
  disk?: { usedPercent: number; bytesFree: number; bytesTotal: number } | null;
}

/** Target-specific, non-secret launch options (instance type, zone, data device…). */
export type PlatformOptions = Record<string, string | number>;

@Entity('platforms')
export class Platform extends UserOwnedTarget<PlatformTarget> {
  @Index()
  @Column({ type: 'varchar', length: 36, nullable: true })
  spaceId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  database!: DatabaseChoice;

  @Column({ type: 'integer' })
  dataVolumeGb!: number;

  /** Readings older than this many days are deleted on the host; null keeps them for ever. */
  @Column({ type: 'integer', nullable: true })
  readingsRetentionDays!: number | null;

  /** In force before the last change: put back when the change's deployment fails. */
  @Column({ type: 'integer', nullable: true })
  previousReadingsRetentionDays!: number | null;

  @Column({ type: 'boolean' })
  tls!: boolean;

  @Column({ type: 'simple-json' })
  /** Host ports of the broker and Grafana. */
  ports!: StackPorts;

  @Column({ type: 'simple-json' })
  options!: PlatformOptions;

  @Column({ type: 'varchar', length: 24 })
  status!: PlatformStatus;

  @Column({ type: 'varchar', length: 24, nullable: true })
  failedStep!: PlatformStep | null;

  /** Public IP or DNS name: from Terraform outputs, or the ssh-host credential's host. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  address!: string | null;

  /** `SHA256:…`, recorded on first contact (trust on first use); a later mismatch is an error. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  hostKeyFingerprint!: string | null;

  /** Terraform outputs other than the address (instance id, SSH user, data volume id). */
  @Column({ type: 'simple-json', nullable: true })
  outputs!: Record<string, string> | null;

  /** Device user names; their passwords are in `secrets`. */
  @Column({ type: 'simple-json' })
  deviceUsers!: string[];

  /** Generated passwords and TLS keys, each sealed under the user's data key. */
  @Column({ type: 'simple-json' })
  secrets!: Record<string, string>;

  /** The broker's CA certificate (public) when TLS is on. */
  @Column({ type: 'text', nullable: true })
  caCertificatePem!: string | null;

  /**
   * When the broker's server certificate expires (it is sealed in `secrets`; this lets the
   * worker warn before then without a key). Null without TLS and for platforms from before it.
   */
  @Column({ type: Date, nullable: true })
  tlsCertificateExpiresAt!: Date | null;

  @Column({ type: 'text' })
  processorScript!: string;

  @Column({ type: 'simple-json' })
  processorPackages!: Record<string, string>;

  /** What ran before the last update: put back when the update's new script does not load. */
  @Column({ type: 'text', nullable: true })
  previousProcessorScript!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  previousProcessorPackages!: Record<string, string> | null;

  @Column({ type: 'boolean' })
  grafanaPasswordRevealed!: boolean;

  /** ssh-host: whether the requested destroy also deletes the data directory. */
  @Column({ type: 'boolean' })
  removeDataOnDestroy!: boolean;

  @Column({ type: 'simple-json', nullable: true })
  health!: PlatformHealth | null;

  /** Path of the newest database dump on the host, once one was made. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  dumpPath!: string | null;

  @Column({ type: Date, nullable: true })
  dumpCreatedAt!: Date | null;
}
