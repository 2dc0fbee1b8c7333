import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  certificateExpiry,
  createCertificateAuthority,
  createRevocationList,
  createStackSpec,
  type DeviceUser,
  issueServerCertificate,
  type StackSpec,
} from '@fieldstation/platform-stack';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CredentialsService, type ResolvedCredential } from '../credentials/credentials.service';
import type { DataKey } from '../crypto/data-key';
import { SSH_USER } from '../infra';
import type { SshTarget } from '../provision/ssh-client';
import { UsersService } from '../users/users.service';
import { PlatformDevices } from './platform-devices';
import { PlatformSecrets, sealSecrets, TLS_FIELDS } from './platform-secrets';
import type { Platform } from './platform.entity';

/**
 * Turns a stored platform into what the provisioning code needs: the SSH target (with the
 * pinned host key) and the stack specification (with its secrets opened). Secrets are opened
 * through a {@link PlatformKeyring}, made once per job run (from its grant) or per request
 * (from the session), so no call below it takes the data key.
 */
@Injectable()
export class PlatformAccess {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
    private readonly devices: PlatformDevices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** What `dataKey` opens for the user's platforms, for one job run or one request. */
  open(dataKey: DataKey): PlatformKeyring {
    return new PlatformKeyring(this.credentials, this.users, this.devices, this.config, dataKey);
  }
}

/** A data key opened for platform work: the platforms' secrets, credentials and SSH keys. */
export class PlatformKeyring {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
    private readonly devices: PlatformDevices,
    private readonly config: AppConfig,
    private readonly dataKey: DataKey,
  ) {}

  secrets(platform: Pick<Platform, 'id' | 'secrets'>): PlatformSecrets {
    return new PlatformSecrets(platform, this.dataKey);
  }

  /** The platform's active devices with their passwords, from the device registry. */
  activeDevices(platform: Platform): Promise<DeviceUser[]> {
    return this.devices.activeDeviceUsers(platform, this.dataKey);
  }

  /** The platform's cloud or SSH-host credential, its secret fields opened. */
  credential(platform: Pick<Platform, 'userId' | 'credentialId'>): Promise<ResolvedCredential> {
    return this.credentials.resolve(platform.userId, platform.credentialId, this.dataKey);
  }

  async sshTarget(platform: Platform): Promise<SshTarget> {
    const user = await this.users.findById(platform.userId);
    if (!user) throw new Error(`User of platform ${platform.id} is gone`);
    const generatedKey = () => this.users.sshPrivateKey(user, this.dataKey);
    if (platform.target === 'ssh-host') {
      const credential = await this.credential(platform);
      return {
        host: String(credential.fields.host),
        port: Number(credential.fields.port ?? 22),
        username: String(credential.fields.username),
        privateKey:
          credential.fields.auth === 'uploaded-key'
            ? credential.secrets.privateKey!
            : generatedKey(),
        hostKeyFingerprint: platform.hostKeyFingerprint,
      };
    }
    if (!platform.address) {
      throw new ApiError(HttpStatus.CONFLICT, 'NO_ADDRESS', 'The platform has no address yet');
    }
    return {
      host: platform.address,
      port: 22,
      username: platform.outputs?.sshUser ?? SSH_USER,
      privateKey: generatedKey(),
      hostKeyFingerprint: platform.hostKeyFingerprint,
    };
  }

  /**
   * The host's own layout (data path, processor image) is applied by PlatformHost. Device logins
   * come from the device registry: its active devices are what a (re)launch renders.
   */
  async stackSpec(platform: Platform): Promise<StackSpec> {
    const secrets = this.secrets(platform);
    // Always with a revocation list, even an empty one: with `crl_check` on, the broker refuses
    // every client certificate when the list's file is missing.
    const tls = platform.tls
      ? {
          caCertificatePem: platform.caCertificatePem!,
          serverCertificatePem: secrets.required(TLS_FIELDS.serverCertificate),
          serverPrivateKeyPem: secrets.required(TLS_FIELDS.serverPrivateKey),
          revocationListPem: await this.revocationList(platform),
        }
      : undefined;
    return createStackSpec({
      address: platform.address!,
      database: platform.database,
      tls,
      ports: platform.ports,
      images: this.config.stackImages,
      secrets: secrets.stack(),
      deviceUsers: await this.activeDevices(platform),
      processor: { scriptSource: platform.processorScript, packages: platform.processorPackages },
    });
  }

  /**
   * The platform CA's revocation list (CRL, signed by the CA): the device certificates renewed
   * away or revoked that have not expired yet. Rendered into every TLS stack and replaced on the
   * host when a certificate is renewed or revoked.
   */
  async revocationList(platform: Platform): Promise<string> {
    const privateKeyPem = this.secrets(platform).required(TLS_FIELDS.caPrivateKey);
    return createRevocationList(
      { certificatePem: platform.caCertificatePem!, privateKeyPem },
      await this.devices.revokedCertificates(platform),
    );
  }

  /**
   * The broker's CA and server certificate (SAN = the platform's address), created once the
   * address is known; returns the changed columns to store.
   */
  async issueTls(
    platform: Platform,
  ): Promise<Pick<Platform, 'secrets' | 'caCertificatePem' | 'tlsCertificateExpiresAt'> | null> {
    if (!platform.tls || platform.secrets[TLS_FIELDS.serverPrivateKey]) return null;
    // A CA copied with another platform's devices (copy-from) is kept: their certificates work.
    const copiedKey = platform.caCertificatePem
      ? this.secrets(platform).field(TLS_FIELDS.caPrivateKey)
      : undefined;
    const ca =
      platform.caCertificatePem && copiedKey !== undefined
        ? { certificatePem: platform.caCertificatePem, privateKeyPem: copiedKey }
        : await createCertificateAuthority(platform.name);
    const server = await issueServerCertificate(ca, platform.address!);
    return {
      caCertificatePem: ca.certificatePem,
      tlsCertificateExpiresAt: certificateExpiry(server.certificatePem),
      secrets: {
        ...platform.secrets,
        ...sealSecrets(this.dataKey, platform.id, {
          [TLS_FIELDS.caPrivateKey]: ca.privateKeyPem,
          [TLS_FIELDS.serverCertificate]: server.certificatePem,
          [TLS_FIELDS.serverPrivateKey]: server.privateKeyPem,
        }),
      },
    };
  }
}
