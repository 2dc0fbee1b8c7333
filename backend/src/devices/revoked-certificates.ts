import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  certificateExpiry,
  certificateSerialNumber,
  type RevokedCertificate,
} from '@fieldstation/platform-stack';
import { In, MoreThan, type Repository } from 'typeorm';
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

  /** Takes revocations back (a change that failed on the host after recording them). */
  async remove(platformId: string, ...serialNumbers: string[]): Promise<void> {
    if (serialNumbers.length === 0) return;
    await this.revoked.delete({ platformId, serialNumber: In(serialNumbers) });
  }

  /**
   * Lists on `toPlatformId` the unexpired revocations of `fromPlatformId` (they share a CA after a
   * copy-from, so those certificates would open its broker too); returns the serials it added.
   */
  async copy(fromPlatformId: string, toPlatformId: string, now = new Date()): Promise<string[]> {
    const [rows, present] = await Promise.all([
      this.revoked.find({ where: { platformId: fromPlatformId, expiresAt: MoreThan(now) } }),
      this.revoked.find({ where: { platformId: toPlatformId }, select: { serialNumber: true } }),
    ]);
    const known = new Set(present.map(({ serialNumber }) => serialNumber));
    const added = rows.filter(({ serialNumber }) => !known.has(serialNumber));
    if (added.length > 0) {
      await this.revoked.insert(added.map((row) => ({ ...row, platformId: toPlatformId })));
    }
    return added.map(({ serialNumber }) => serialNumber);
  }

  /** The platform's revoked certificates that have not expired at `now`, oldest first. */
  listed(platformId: string, now = new Date()): Promise<RevokedCertificate[]> {
    return this.listedOnAny([platformId], now);
  }

  /**
   * The unexpired revoked certificates of any of these platforms (those sharing a CA), each
   * serial once (its first revocation), oldest first; `unless` drops a platform's revocation.
   */
  async listedOnAny(
    platformIds: readonly string[],
    now = new Date(),
    unless: (serialNumber: string, platformId: string) => boolean = () => false,
  ): Promise<RevokedCertificate[]> {
    const rows = await this.revoked.find({
      where: { platformId: In(platformIds), expiresAt: MoreThan(now) },
      order: { revokedAt: 'ASC', serialNumber: 'ASC' },
    });
    const listed = new Map<string, RevokedCertificate>();
    for (const { serialNumber, revokedAt, platformId } of rows) {
      if (listed.has(serialNumber) || unless(serialNumber, platformId)) continue;
      listed.set(serialNumber, { serialNumber, revokedAt });
    }
    return [...listed.values()];
  }
}
