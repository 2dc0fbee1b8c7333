import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Platform } from '../platforms/platform.entity';

/** Why a device certificate stopped being valid before its expiry. */
export type CertificateRevocationReason = 'renewed' | 'revoked';

/**
 * A device certificate of a platform's CA that the broker must refuse: renewed away or its device
 * revoked. The platform's revocation list (CRL) names every one not yet expired.
 */
@Entity('revoked_device_certificates')
export class RevokedDeviceCertificate {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  platformId!: string;

  @ManyToOne(() => Platform, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'platformId' })
  platform?: Platform;

  /** Hex, as the certificate and the revocation list name it (random, 16 bytes). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  serialNumber!: string;

  @Column({ type: 'varchar', length: 63 })
  deviceName!: string;

  @Column({ type: 'varchar', length: 16 })
  reason!: CertificateRevocationReason;

  @Column({ type: Date })
  revokedAt!: Date;

  /** Past it the certificate is refused anyway, so the list leaves it out. */
  @Column({ type: Date })
  expiresAt!: Date;
}
