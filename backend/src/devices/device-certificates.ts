import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  type CertificateAuthority,
  certificateExpiry,
  certificateSerialNumber,
  createRevocationList,
  CsrRejectedError,
  issueDeviceCertificate,
  type RevokedCertificate,
  signDeviceCsr,
} from '@fieldstation/platform-stack';
import { In, Not, IsNull, type Repository } from 'typeorm';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { RequestOrigin } from '../common/request-origin';
import type { DataKey } from '../crypto/data-key';
import { PlatformAccess, type PlatformKeyring } from '../platforms/platform-access';
import { PlatformRecords } from '../platforms/platform-records';
import { sealSecrets, TLS_FIELDS } from '../platforms/platform-secrets';
import type { Platform } from '../platforms/platform.entity';
import { PlatformHost } from '../provision/platform-host';
import { DeviceLocks } from './device-locks';
import { Device, type DeviceAuthKind } from './device.entity';
import { requireRunning } from './require-running';
import { RevokedCertificates } from './revoked-certificates';

/** A device certificate as answered once: the private key only when Fieldstation made it. */
export interface DeviceCertificateBundle {
  certificatePem: string;
  /** The platform CA: the device trusts the broker's server certificate through it. */
  caCertificatePem: string;
  /** Only for a generated key pair; a CSR's key never leaves the device. */
  privateKeyPem?: string;
  expiresAt: Date;
}

export const usesCertificate = (kind: DeviceAuthKind): boolean => kind !== 'password';

/** A revocation list written this many times at most per change (others changing it at once). */
const REVOCATION_LIST_WRITES = 5;

/**
 * Client certificates of a platform's devices, signed by the platform's CA (made at launch with
 * the broker's server certificate; its private key sealed in the platform's secrets under the
 * owner's data key). The broker authenticates a certificate by its CN (EXTERNAL) and refuses the
 * ones its revocation list (CRL) names: those renewed away and those of revoked devices.
 */
@Injectable()
export class DeviceCertificates {
  private readonly logger = new Logger(DeviceCertificates.name);

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly platforms: PlatformRecords,
    private readonly access: PlatformAccess,
    private readonly sessions: SessionsService,
    private readonly audit: AuditLog,
    private readonly host: PlatformHost,
    private readonly locks: DeviceLocks,
    private readonly revocations: RevokedCertificates,
  ) {}

  /**
   * A certificate for the device: for the key of its CSR when given (400 when the CSR is
   * refused), else for a new key pair. 409 when the platform has no CA (launched without TLS).
   */
  async issue(
    platform: Platform,
    keyring: PlatformKeyring,
    name: string,
    csrPem: string | undefined,
  ): Promise<DeviceCertificateBundle> {
    const ca = this.authority(platform, keyring);
    if (csrPem === undefined) {
      const issued = await issueDeviceCertificate(ca, name);
      return {
        certificatePem: issued.certificatePem,
        caCertificatePem: ca.certificatePem,
        privateKeyPem: issued.privateKeyPem,
        expiresAt: certificateExpiry(issued.certificatePem),
      };
    }
    try {
      const certificatePem = await signDeviceCsr(ca, name, csrPem);
      return {
        certificatePem,
        caCertificatePem: ca.certificatePem,
        expiresAt: certificateExpiry(certificatePem),
      };
    } catch (error) {
      if (!(error instanceof CsrRejectedError)) throw error;
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', error.message, [
        { field: 'csr', problems: [error.message] },
      ]);
    }
  }

  /**
   * A new certificate for an active certificate device (from a new or the same CSR, or a new key
   * pair), answered once. The previous one is revoked: the registry lists it, and a running
   * platform's broker gets the new revocation list at once (no restart; the broker user needs no
   * change). If the list cannot be written, the device keeps its previous certificate and the
   * answer is 502. A platform that is not running answers 409: its broker may still run (updating,
   * failed at updating) and would keep accepting the previous certificate.
   */
  async renew(
    auth: AuthContext,
    platformId: string,
    name: string,
    csrPem: string | undefined,
    origin: RequestOrigin,
  ): Promise<{ device: Device; certificate: DeviceCertificateBundle }> {
    const platform = requireRunning(await this.platforms.getOwned(auth.userId, platformId));
    return this.locks.hold(platform.id, name, () =>
      this.renewLocked(auth, platform, name, csrPem, origin),
    );
  }

  private async renewLocked(
    auth: AuthContext,
    platform: Platform,
    name: string,
    csrPem: string | undefined,
    origin: RequestOrigin,
  ): Promise<{ device: Device; certificate: DeviceCertificateBundle }> {
    const device = await this.devices.findOneBy({ activeName: `${platform.id}:${name}` });
    if (!device) {
      const known = await this.devices.existsBy({ platformId: platform.id, name });
      throw known
        ? new ApiError(HttpStatus.CONFLICT, 'DEVICE_REVOKED', `Device "${name}" is revoked`)
        : new ApiError(HttpStatus.NOT_FOUND, 'DEVICE_NOT_FOUND', `No device named "${name}"`);
    }
    if (!usesCertificate(device.authKind)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'DEVICE_WITHOUT_CERTIFICATE',
        `Device "${name}" logs in with a password only; rotate it instead`,
      );
    }
    const keyring = this.access.open(await this.sessions.dataKey(auth.sessionId));
    const certificate = await this.issue(platform, keyring, name, csrPem);
    const changes = {
      certificatePem: certificate.certificatePem,
      certificateExpiresAt: certificate.expiresAt,
    };
    // The registry first (the previous certificate listed, the new one stored), then the host's
    // list; a list that cannot be written takes both back.
    const previousSerial = device.certificatePem
      ? await this.revocations.add(platform.id, name, device.certificatePem, 'renewed')
      : null;
    const undoListing = async () => {
      if (previousSerial) await this.revocations.remove(platform.id, previousSerial);
    };
    // Only while the record is still active: a revoke meanwhile wins.
    const { affected } = await this.devices.update(
      { id: device.id, activeName: device.activeName! },
      changes,
    );
    if (!affected) {
      await undoListing();
      throw new ApiError(HttpStatus.CONFLICT, 'DEVICE_REVOKED', `Device "${name}" is revoked`);
    }
    try {
      await this.publishRevocationList(platform, keyring);
    } catch (error) {
      await this.devices.update(
        { id: device.id },
        {
          certificatePem: device.certificatePem,
          certificateExpiresAt: device.certificateExpiresAt,
        },
      );
      await undoListing();
      throw revocationListFailed('renewal', name, error);
    }
    await this.audit.record(auth.userId, AuditEventType.DeviceCertificateIssued, origin, {
      platformId: platform.id,
      platformName: platform.name,
      device: name,
      expiresAt: certificate.expiresAt.toISOString(),
    });
    return { device: { ...device, ...changes }, certificate };
  }

  /**
   * Writes the platform's revocation list to its running broker's host, and to every other
   * running platform that trusts the same CA (after a copy-from): a certificate revoked on one is
   * refused by all of them. The list names the unexpired revoked certificates of all those
   * platforms. This platform's write must succeed (else the error); another's that fails is
   * logged, and its next render (launch, update) lists them anyway.
   */
  async publishRevocationList(platform: Platform, keyring: PlatformKeyring): Promise<void> {
    const sharing = await this.platforms.sharingCertificateAuthority(platform);
    const ids = sharing.map(({ id }) => id);
    if (!ids.includes(platform.id)) ids.push(platform.id);
    await this.writeRevocationList(platform, keyring, ids);
    for (const other of sharing) {
      if (other.id === platform.id || other.status !== 'running' || !other.tls) continue;
      await this.writeRevocationList(other, keyring, ids).catch((error: Error) =>
        this.logger.warn(
          `revocation list of ${other.id} (sharing the CA of ${platform.id}) not written: ${error.message}`,
        ),
      );
    }
  }

  /** What a render of the platform's broker lists: the revocations of every platform sharing its CA. */
  async revokedForAuthority(platform: Platform): Promise<RevokedCertificate[]> {
    const sharing = await this.platforms.sharingCertificateAuthority(platform);
    return this.listedFor([platform.id, ...sharing.map(({ id }) => id)]);
  }

  /**
   * The revocations of these platforms (sharing one CA), except a platform's revocation of a
   * certificate an active device on another of them still holds: copy devices to B, then revoke
   * them on A to clean up, and B's copies keep working until they are revoked on B too.
   */
  private async listedFor(platformIds: readonly string[]): Promise<RevokedCertificate[]> {
    const holders = await this.devices.find({
      select: { platformId: true, certificatePem: true },
      where: {
        platformId: In(platformIds),
        activeName: Not(IsNull()),
        certificatePem: Not(IsNull()),
      },
    });
    const heldOn = new Map<string, Set<string>>();
    for (const { platformId, certificatePem } of holders) {
      const serial = certificateSerialNumber(certificatePem!);
      heldOn.set(serial, (heldOn.get(serial) ?? new Set()).add(platformId));
    }
    return this.revocations.listedOnAny(platformIds, new Date(), (serial, revokedOn) =>
      [...(heldOn.get(serial) ?? [])].some((holder) => holder !== revokedOn),
    );
  }

  /**
   * Writes one platform's list. Read again after writing: another change's write may have raced
   * this one with an older list, so it writes until what it wrote is what the registry holds.
   */
  private async writeRevocationList(
    platform: Platform,
    keyring: PlatformKeyring,
    platformIds: readonly string[],
  ): Promise<void> {
    const ca = this.authority(platform, keyring);
    const target = await keyring.sshTarget(platform);
    let written: string | undefined;
    for (let writes = 0; writes < REVOCATION_LIST_WRITES; writes++) {
      const revoked = await this.listedFor(platformIds);
      const serials = revoked.map((entry) => entry.serialNumber).join(',');
      if (serials === written) return;
      const list = await createRevocationList(ca, revoked);
      await this.host.writeRevocationList(target, platform.id, ca.certificatePem, list);
      written = serials;
    }
  }

  /**
   * After a copy-from that leaves `target` with `source`'s CA: the source's revoked certificates
   * are listed on the target too, and a running target's broker gets the list at once (if that
   * fails, the listing is taken back and the answer is 502, before any device is copied).
   */
  async copyRevocations(
    target: Platform,
    source: Platform,
    keyring: PlatformKeyring,
  ): Promise<void> {
    const added = await this.revocations.copy(source.id, target.id);
    if (added.length === 0 || target.status !== 'running') return;
    try {
      await this.publishRevocationList(target, keyring);
    } catch (error) {
      await this.revocations.remove(target.id, ...added);
      throw revocationListFailed('copy', source.name, error);
    }
  }

  /** Lists a revoked device's certificate (before its broker user goes); returns its serial. */
  listRevoked(platform: Platform, device: Device): Promise<string> {
    return this.revocations.add(platform.id, device.name, device.certificatePem!, 'revoked');
  }

  /** Takes a listing back (the revoke failed on the broker). */
  unlistRevoked(platform: Platform, serialNumber: string): Promise<void> {
    return this.revocations.remove(platform.id, serialNumber);
  }

  /**
   * Copy-from with certificate devices: their certificates work on `target` only if its broker
   * trusts the CA that signed them. A target without a CA yet (not launched) takes the source's
   * CA (its certificate and its private key, re-sealed under the target's AAD); its launch then
   * signs the broker's server certificate with it (`PlatformKeyring.issueTls`). A target with
   * another CA is refused (409 `CERTIFICATE_AUTHORITY_CONFLICT`): its broker and any certificates
   * it issued trust that CA, and swapping it would strand them. Returns the platform columns to
   * store, or null when nothing changes.
   */
  async authorityForCopy(
    target: Platform,
    source: Platform,
    keyring: PlatformKeyring,
    dataKey: DataKey,
  ): Promise<Pick<Platform, 'caCertificatePem' | 'secrets'> | null> {
    if (source.caCertificatePem === null || target.caCertificatePem === source.caCertificatePem) {
      return null;
    }
    if (target.caCertificatePem !== null) {
      const issued = await this.devices.count({
        where: { platformId: target.id, certificatePem: Not(IsNull()) },
      });
      throw new ApiError(
        HttpStatus.CONFLICT,
        'CERTIFICATE_AUTHORITY_CONFLICT',
        `This platform has its own CA (${issued} device certificate(s) issued by it), so the ` +
          `certificates of "${source.name}" would not be accepted here. Copy the devices to a ` +
          'platform that is not launched yet (it takes their CA), or give them new certificates.',
      );
    }
    if (!target.tls) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_WITHOUT_TLS',
        'Certificate devices need a platform with TLS; this one is launched without it',
      );
    }
    return {
      caCertificatePem: source.caCertificatePem,
      secrets: {
        ...target.secrets,
        ...sealSecrets(dataKey, target.id, {
          [TLS_FIELDS.caPrivateKey]: this.authority(source, keyring).privateKeyPem,
        }),
      },
    };
  }

  private authority(platform: Platform, keyring: PlatformKeyring): CertificateAuthority {
    const privateKeyPem = platform.tls
      ? keyring.secrets(platform).field(TLS_FIELDS.caPrivateKey)
      : undefined;
    if (!platform.caCertificatePem || privateKeyPem === undefined) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_WITHOUT_TLS',
        'Certificate devices need a platform launched with TLS (its CA signs them); this one ' +
          'has none',
      );
    }
    return { certificatePem: platform.caCertificatePem, privateKeyPem };
  }
}

/** The host's words (no secret: fixed commands, the path and the command's stderr only). */
export function revocationListFailed(action: string, name: string, error: unknown): ApiError {
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(
    HttpStatus.BAD_GATEWAY,
    'REVOCATION_LIST_NOT_WRITTEN',
    `The platform's revocation list could not be written for the ${action} of "${name}"; ` +
      `nothing was changed: ${message}`,
  );
}
