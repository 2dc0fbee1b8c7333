import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  certificateExpiry,
  certificateSerialNumber,
  type RevokedCertificate,
} from '@fieldstation/platform-stack';
import { MoreThan, type Repository } from 'typeorm';
import {
  type CertificateRevocationReason,
  RevokedDeviceCertificate,
} from './revoked-certificate.entity';

/**
 * The device certificates a platform's broker must refuse (renewed away or revoked), kept per
 * platform until they expire: what the platform's revocation list (CRL) names.
 */
@Injectable()
export class RevokedCertificates {
  constructor(
    @InjectRepository(RevokedDeviceCertificate)
    private readonly revoked: Repository<RevokedDeviceCertificate>,
  ) {}

  /** Records `certificatePem` as revoked; returns its serial (to take it back with `remove`). */
  async add(
    platformId: string,
    deviceName: string,
    certificatePem: string,
    reason: CertificateRevocationReason,
    revokedAt = new Date(),
  ): Promise<string> {
    const serialNumber = certificateSerialNumber(certificatePem);
    await this.revoked.save({
      platformId,
      serialNumber,
      deviceName,
      reason,
      revokedAt,
      expiresAt: certificateExpiry(certificatePem),
    });
    return serialNumber;
  }

  /** Takes a revocation back (a change that failed on the host after recording it). */
  async remove(platformId: string, serialNumber: string): Promise<void> {
    await this.revoked.delete({ platformId, serialNumber });
  }

  /** The platform's revoked certificates that have not expired at `now`, oldest first. */
  async listed(platformId: string, now = new Date()): Promise<RevokedCertificate[]> {
    const rows = await this.revoked.find({
      where: { platformId, expiresAt: MoreThan(now) },
      order: { revokedAt: 'ASC', serialNumber: 'ASC' },
    });
    return rows.map(({ serialNumber, revokedAt }) => ({ serialNumber, revokedAt }));
  }
}
