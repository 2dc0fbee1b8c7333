import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  ADMIN_USER,
  deviceBrokerAccess,
  type DeviceUser,
  generateSecret,
  type RevokedCertificate,
} from '@fieldstation/platform-stack';
import { In, IsNull, Like, MoreThan, Not, Repository, type FindOptionsWhere } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { dnsLabelMessage, isDnsLabel } from '../common/dns-label';
import type { RequestOrigin } from '../common/request-origin';
import { isUniqueViolation } from '../common/unique-violation';
import type { DataKey } from '../crypto/data-key';
import type { PlatformKeyring } from '../platforms/platform-access';
import { PlatformAccess } from '../platforms/platform-access';
import {
  type DeviceLogin,
  type DeviceRegistryPort,
  RESERVED_DEVICE_NAME_MESSAGE,
  RESERVED_DEVICE_NAMES,
} from '../platforms/platform-devices';
import { PlatformRecords } from '../platforms/platform-records';
import type { Platform } from '../platforms/platform.entity';
import {
  type BrokerApi,
  BrokerManagement,
  type BrokerManagementTarget,
} from '../provision/broker-management';
import type { BrokerMqttListener } from '../provision/broker-mqtt';
import { PlatformHost } from '../provision/platform-host';
import { commandTopic } from './command-topic';
import type { CreateDeviceInput, ListDevicesQuery, UpdateDeviceInput } from './dto/device.dto';
import {
  type DeviceCertificateBundle,
  DeviceCertificates,
  revocationListFailed,
  usesCertificate,
} from './device-certificates';
import { DeviceLocks } from './device-locks';
import { requireRunning } from './require-running';
import {
  type DeviceWithStatus,
  filterAndSort,
  type LiveState,
  unknownPublishers,
  withLiveState,
} from './fleet-status';
import { Device } from './device.entity';

/** The sealed field of a device's password: the AAD platforms used for their launch devices. */
export const passwordField = (name: string) => `device:${name}`;

/** A fleet status read waits at most this long for the broker; then `online` is null. */
const STATUS_TIMEOUT_MS = 3_000;
/**
 * …and this long for the processor's figures (`docker exec` starting node in its container
 * takes seconds on a busy small host); then they are null.
 */
const FIGURES_TIMEOUT_MS = 8_000;

export type { DeviceWithStatus } from './fleet-status';

export interface DeviceWithPassword {
  device: Device;
  /** Plain text, for the one answer that shows it. */
  password: string;
}

/** A new device and what its answer shows once: password (null: certificate only), certificate. */
export interface NewDevice {
  device: Device;
  password: string | null;
  certificate?: DeviceCertificateBundle;
}

/**
 * A platform's fleet: the registry of its devices (the source of the device logins rendered at
 * launch) and the changes a running platform's broker gets at once, through its management API.
 * A broker change that fails leaves the registry as it was and answers 502.
 */
@Injectable()
export class DeviceRegistry implements DeviceRegistryPort {
  private readonly logger = new Logger(DeviceRegistry.name);

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly platforms: PlatformRecords,
    private readonly access: PlatformAccess,
    private readonly sessions: SessionsService,
    private readonly broker: BrokerManagement,
    private readonly host: PlatformHost,
    private readonly audit: AuditLog,
    private readonly locks: DeviceLocks,
    private readonly certificates: DeviceCertificates,
  ) {}

  /** The registry's devices matching the query (the caller checked the platform is theirs). */
  private async list(
    userId: string,
    platformId: string,
    query: ListDevicesQuery,
  ): Promise<Device[]> {
    const where: FindOptionsWhere<Device> = { userId, platformId };
    if (query.status) where.revokedAt = query.status === 'active' ? IsNull() : Not(IsNull());
    // The prefix is validated to [a-z0-9-]: no LIKE wildcard can be in it.
    if (query.prefix) where.name = Like(`${query.prefix}%`);
    const found = await this.devices.find({ where, order: { name: 'ASC', createdAt: 'ASC' } });
    if (!query.label) return found;
    const split = query.label.indexOf(':');
    const [key, value] = [query.label.slice(0, split), query.label.slice(split + 1)];
    return found.filter((device) => device.labels[key] === value);
  }

  /**
   * The fleet with each device's live state, read from the running platform once per request
   * (see liveState), with a short timeout. A figure is null for every device when the platform
   * is not running or could not be asked now: unknown, not offline or silent.
   */
  async listWithStatus(
    auth: AuthContext,
    platformId: string,
    query: ListDevicesQuery,
  ): Promise<DeviceWithStatus[]> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const [devices, live] = await Promise.all([
      this.list(auth.userId, platformId, query),
      this.liveState(auth, platform),
    ]);
    return filterAndSort(
      devices.map((device) => withLiveState(device, live)),
      query,
      live,
    );
  }

  /**
   * Active devices and how many of them hold a broker connection now, for the metrics history
   * (the worker's health check, no request). `online` is null when it cannot be known: the
   * platform not running or its management API not published, no live session of the owner to
   * open the broker login with (DESIGN §4), or no answer within the status time limit.
   */
  async fleetCounts(platform: Platform): Promise<{ total: number; online: number | null }> {
    const active = await this.devices.find({
      where: { platformId: platform.id, revokedAt: IsNull() },
      select: { name: true },
    });
    return { total: active.length, online: await this.onlineAmong(platform, active) };
  }

  private async onlineAmong(
    platform: Platform,
    active: { name: string }[],
  ): Promise<number | null> {
    if (
      platform.status !== 'running' ||
      !platform.hostKeyFingerprint ||
      platform.ports.rabbitmqManagement === null
    ) {
      return null;
    }
    const dataKey = await this.sessions.latestDataKey(platform.userId);
    if (!dataKey) return null;
    try {
      const target = await this.brokerTarget(platform, this.access.open(dataKey));
      const connections = await withinStatusTimeout(
        this.broker.use(target, (api) => api.connectionsByUser(), STATUS_TIMEOUT_MS),
      );
      return active.filter(({ name }) => (connections.get(name) ?? 0) > 0).length;
    } catch (error) {
      this.logger.warn(
        `devices online of platform ${platform.id} unknown: ${(error as Error).message}`,
      );
      return null;
    }
  }

  /**
   * Devices whose readings the processor stored but that are not active in the registry (only
   * legacy paths can produce them: a script renaming devices, MyT's fanout by body, an old
   * launch), so nothing hides. Empty when the processor cannot be asked.
   */
  async unknownPublishers(auth: AuthContext, platformId: string) {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const [active, live] = await Promise.all([
      this.devices.find({ where: { platformId, revokedAt: IsNull() }, select: { name: true } }),
      this.liveState(auth, platform, { connections: false }),
    ]);
    return unknownPublishers(new Set(active.map(({ name }) => name)), live);
  }

  /** One device with its live state (see listWithStatus). */
  async getWithStatus(
    auth: AuthContext,
    platformId: string,
    name: string,
  ): Promise<DeviceWithStatus> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const device = await this.get(auth.userId, platformId, name);
    return withLiveState(device, await this.liveState(auth, platform));
  }

  /** The active device of that name, else its latest revoked record. */
  async get(userId: string, platformId: string, name: string): Promise<Device> {
    await this.platforms.getOwned(userId, platformId);
    const [device] = await this.devices.find({
      where: { userId, platformId, name },
      order: { revokedAt: { direction: 'DESC', nulls: 'FIRST' } },
      take: 1,
    });
    if (!device) throw notFound(name);
    return device;
  }

  async update(
    userId: string,
    platformId: string,
    name: string,
    input: UpdateDeviceInput,
  ): Promise<Device> {
    const device = await this.active(await this.platforms.getOwned(userId, platformId), name);
    const changes: Partial<Device> = {};
    if (input.labels !== undefined) changes.labels = input.labels;
    if (input.metadata !== undefined) changes.metadata = input.metadata;
    await this.devices.update({ id: device.id }, changes as QueryDeepPartialEntity<Device>);
    return { ...device, ...changes };
  }

  /** Registers the device and creates its broker user at once; the password is answered once. */
  async create(
    auth: AuthContext,
    platformId: string,
    input: CreateDeviceInput,
    origin: RequestOrigin,
  ): Promise<NewDevice> {
    const platform = await this.running(auth.userId, platformId);
    return this.locks.hold(platform.id, input.name, () =>
      this.createLocked(auth, platform, input, origin),
    );
  }

  private async createLocked(
    auth: AuthContext,
    platform: Platform,
    input: CreateDeviceInput,
    origin: RequestOrigin,
  ): Promise<NewDevice> {
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const keyring = this.access.open(dataKey);
    const target = await this.brokerTarget(platform, keyring);
    const created: NewDevice = this.newDevice(platform, input, dataKey);
    // Shown in this answer: no later reveal.
    created.device.passwordRevealedAt = created.device.createdAt;
    if (input.csr !== undefined && !usesCertificate(created.device.authKind)) {
      throw badInput('csr', 'a CSR needs authKind certificate or both');
    }
    // Signed (or the CSR refused, 400) before anything is registered or on the broker.
    if (usesCertificate(created.device.authKind)) {
      created.certificate = await this.certificates.issue(platform, keyring, input.name, input.csr);
      created.device.certificatePem = created.certificate.certificatePem;
      created.device.certificateExpiresAt = created.certificate.expiresAt;
    }
    // The unique index reserves the name before the broker hears of it (two creates race here).
    await this.insert([created.device]);
    const { device, password } = created;
    const reused = await this.previouslyRevoked(platform, [device.name]);
    try {
      await this.broker.use(target, async (api) => {
        try {
          // A retained command of an earlier device of this name (its revoke's clear is
          // best-effort) must not reach this one: cleared first, or nothing is created.
          await api.clearRetained(reused.map(commandTopic));
          await api.putUser(device.name, password);
          await api.grant(
            device.name,
            deviceBrokerAccess(device.name, { legacyFanout: device.legacyFanout }),
          );
        } catch (error) {
          await api.deleteUser(device.name).catch(() => undefined);
          throw error;
        }
      });
    } catch (error) {
      await this.devices.delete({ id: device.id });
      throw brokerFailed('create', device.name, error);
    }
    await this.record(auth, origin, AuditEventType.DeviceCreated, platform, device.name);
    if (created.certificate) {
      await this.record(
        auth,
        origin,
        AuditEventType.DeviceCertificateIssued,
        platform,
        device.name,
      );
    }
    return created;
  }

  /**
   * A new password: the broker user gets it and the device's open connections close, so the old
   * password stops working at once. The registry keeps the old one if the broker refuses.
   */
  async rotate(
    auth: AuthContext,
    platformId: string,
    name: string,
    origin: RequestOrigin,
  ): Promise<DeviceWithPassword> {
    const platform = await this.running(auth.userId, platformId);
    return this.locks.hold(platform.id, name, () =>
      this.rotateLocked(auth, platform, name, origin),
    );
  }

  private async rotateLocked(
    auth: AuthContext,
    platform: Platform,
    name: string,
    origin: RequestOrigin,
  ): Promise<DeviceWithPassword> {
    const device = withPassword(await this.active(platform, name));
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const target = await this.brokerTarget(platform, this.access.open(dataKey));
    const password = generateSecret();
    const previous = dataKey.openField(platform.id, passwordField(name), device.password!);
    // Whatever fails after the broker took the new password puts the stored one back, so the
    // broker and the registry never disagree on which password opens the device.
    const undo = () =>
      this.broker
        .use(target, (api) => api.putUser(name, previous))
        .catch((error: Error) =>
          this.logger.error(`rotate of ${name} not undone: ${error.message}`),
        );
    await this.applyToBroker('rotate', target, name, async (api) => {
      await api.putUser(name, password);
      try {
        await api.closeConnectionsOf(name);
      } catch (error) {
        await api
          .putUser(name, previous)
          .catch((undone: Error) =>
            this.logger.error(`rotate of ${name} not undone: ${undone.message}`),
          );
        throw error;
      }
    });
    const rotatedAt = new Date();
    const changes = {
      password: dataKey.sealField(platform.id, passwordField(name), password),
      rotatedAt,
      // Shown in this answer: no later reveal.
      passwordRevealedAt: rotatedAt,
    };
    try {
      await this.devices.update({ id: device.id }, changes);
    } catch (error) {
      await undo();
      throw error;
    }
    await this.record(auth, origin, AuditEventType.DeviceRotated, platform, name);
    return { device: { ...device, ...changes }, password };
  }

  /** Deletes the broker user and closes its connections, then marks the device revoked. */
  async revoke(
    auth: AuthContext,
    platformId: string,
    name: string,
    origin: RequestOrigin,
  ): Promise<Device> {
    const platform = await this.running(auth.userId, platformId);
    return this.locks.hold(platform.id, name, () =>
      this.revokeLocked(auth, platform, name, origin),
    );
  }

  private async revokeLocked(
    auth: AuthContext,
    platform: Platform,
    name: string,
    origin: RequestOrigin,
  ): Promise<Device> {
    const device = await this.active(platform, name);
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const keyring = this.access.open(dataKey);
    const target = await this.brokerTarget(platform, keyring);
    // A certificate is listed as revoked (registry, then the host's list) before the broker user
    // goes: the list can be taken back if the broker refuses, a deleted user cannot.
    const listed = await this.listCertificateRevoked(platform, keyring, device);
    try {
      await this.applyToBroker('revoke', target, name, (api) => api.deleteUser(name));
    } catch (error) {
      if (listed) {
        await this.certificates.unlistRevoked(platform, listed);
        await this.certificates
          .publishRevocationList(platform, keyring)
          .catch((undo: Error) =>
            this.logger.warn(`revocation list of ${platform.id} not restored: ${undo.message}`),
          );
      }
      throw error;
    }
    // Deleting the user already ends its connections on the broker; this only makes sure. Its
    // retained command goes too; the revoke (the user gone) does not fail with either, and a
    // device created later under this name clears it again before it exists on the broker.
    await this.broker
      .use(target, async (api) => {
        await api
          .closeConnectionsOf(name)
          .catch((error: Error) =>
            this.logger.warn(`connections of revoked ${name} not closed: ${error.message}`),
          );
        await api
          .clearRetained([commandTopic(name)])
          .catch((error: Error) =>
            this.logger.warn(`retained command of revoked ${name} left: ${error.message}`),
          );
      })
      .catch((error: Error) =>
        this.logger.warn(`revoked ${name}: no second connection to the broker: ${error.message}`),
      );
    // The sealed password is no longer needed; the name is free for a new device.
    const changes = { revokedAt: new Date(), activeName: null, password: null };
    await this.devices.update({ id: device.id }, changes);
    await this.record(auth, origin, AuditEventType.DeviceRevoked, platform, name);
    return { ...device, ...changes };
  }

  /** Lists the device's certificate as revoked and writes the host's list; null: none to list. */
  private async listCertificateRevoked(
    platform: Platform,
    keyring: PlatformKeyring,
    device: Device,
  ): Promise<string | null> {
    if (!usesCertificate(device.authKind) || device.certificatePem === null) return null;
    const serialNumber = await this.certificates.listRevoked(platform, device);
    try {
      await this.certificates.publishRevocationList(platform, keyring);
    } catch (error) {
      await this.certificates.unlistRevoked(platform, serialNumber);
      throw revocationListFailed('revoke', device.name, error);
    }
    return serialNumber;
  }

  /**
   * The password of a device enrolled at launch, answered once (audited); a created or rotated
   * device's password was shown in that answer. A second reveal is refused: rotate instead.
   */
  async revealPassword(
    auth: AuthContext,
    platformId: string,
    name: string,
    origin: RequestOrigin,
  ): Promise<DeviceWithPassword> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const device = withPassword(await this.active(platform, name));
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const passwordRevealedAt = new Date();
    // Compare-and-set: of two reveals at once, one answers the password.
    const { affected } = await this.devices.update(
      { id: device.id, passwordRevealedAt: IsNull() },
      { passwordRevealedAt },
    );
    if (!affected) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PASSWORD_ALREADY_REVEALED',
        `The password of "${name}" was already shown once; rotate the device for a new one`,
      );
    }
    await this.record(auth, origin, AuditEventType.DevicePasswordRevealed, platform, name);
    return {
      device: { ...device, passwordRevealedAt },
      password: dataKey.openField(platform.id, passwordField(name), device.password!),
    };
  }

  /**
   * An active device of a running platform and how to reach its broker (for a call that is not
   * a registry change, such as a command): 404 unknown, 409 revoked or platform not running.
   */
  async brokerOfActive(
    auth: AuthContext,
    platformId: string,
    name: string,
  ): Promise<{ platform: Platform; device: Device; target: BrokerManagementTarget }> {
    const platform = await this.running(auth.userId, platformId);
    const device = await this.active(platform, name);
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    return {
      platform,
      device,
      target: await this.brokerTarget(platform, this.access.open(dataKey)),
    };
  }

  /**
   * Re-applies another platform's active devices (same owner) to this one with the same
   * credentials, so devices move without re-flashing: the sealed password is opened under the
   * other platform's AAD and sealed under this one's; labels, metadata, auth kind, legacyFanout
   * and the certificate fields are kept. Names this platform already has are skipped. On a
   * running platform the broker users are created at once (any failure removes every one made
   * here and the rows: 502, nothing half-applied); otherwise the next launch or update renders
   * them. Certificate devices bring their CA along (`DeviceCertificates.authorityForCopy`: a
   * target without a CA takes the source's; one with another CA is a 409 before anything changes).
   */
  async copyFrom(
    auth: AuthContext,
    platformId: string,
    otherId: string,
    origin: RequestOrigin,
  ): Promise<{ copied: Device[]; skipped: string[] }> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    const other = await this.platforms.getOwned(auth.userId, otherId);
    if (other.id === platform.id) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'A platform cannot copy its own devices',
        [{ field: 'otherId', problems: ['is this platform'] }],
      );
    }
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const [sources, present] = await Promise.all([
      this.devices.find({
        where: { platformId: other.id, revokedAt: IsNull() },
        order: { name: 'ASC' },
      }),
      this.devices.find({
        where: { platformId: platform.id, revokedAt: IsNull() },
        select: { name: true },
      }),
    ]);
    const taken = new Set(present.map(({ name }) => name));
    const skipped = sources.filter(({ name }) => taken.has(name)).map(({ name }) => name);
    const copies = sources
      .filter(({ name }) => !taken.has(name))
      .map((source) => {
        const password =
          source.password === null
            ? null
            : dataKey.openField(other.id, passwordField(source.name), source.password);
        const device = this.devices.create({
          ...source,
          id: randomUUID(),
          platformId: platform.id,
          activeName: `${platform.id}:${source.name}`,
          password:
            password === null
              ? null
              : dataKey.sealField(platform.id, passwordField(source.name), password),
          createdAt: new Date(),
        });
        return { device, password };
      });
    const keyring = this.access.open(dataKey);
    const authority = copies.some(({ device }) => device.certificatePem !== null)
      ? await this.certificates.authorityForCopy(platform, other, keyring, dataKey)
      : null;
    const target =
      platform.status === 'running' ? await this.brokerTarget(platform, keyring) : null;
    if (
      authority &&
      !(await this.platforms.saveIfCertificateAuthority(platform.id, null, authority))
    ) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'CERTIFICATE_AUTHORITY_CONFLICT',
        'This platform made its own certificate authority meanwhile (its launch reached ' +
          'configuring): the copied certificates would not be trusted here. Nothing was copied',
      );
    }
    const sharedCa = authority?.caCertificatePem ?? platform.caCertificatePem;
    if (other.caCertificatePem !== null && sharedCa === other.caCertificatePem) {
      await this.certificates.copyRevocations({ ...platform, ...authority }, other, keyring);
    }
    await this.insert(copies.map(({ device }) => device));
    if (target) {
      const made: string[] = [];
      try {
        await this.broker.use(target, async (api) => {
          try {
            for (const { device, password } of copies) {
              made.push(device.name);
              await api.putUser(device.name, password);
              await api.grant(
                device.name,
                deviceBrokerAccess(device.name, { legacyFanout: device.legacyFanout }),
              );
            }
          } catch (error) {
            for (const name of made) await api.deleteUser(name).catch(() => undefined);
            throw error;
          }
        });
      } catch (error) {
        if (copies.length > 0) await this.devices.delete(copies.map(({ device }) => device.id));
        throw brokerFailed('copy', made.at(-1) ?? other.name, error);
      }
    }
    for (const { device } of copies) {
      await this.record(auth, origin, AuditEventType.DeviceCreated, platform, device.name);
    }
    return { copied: copies.map(({ device }) => device), skipped };
  }

  /** Launch: the names given become registry entries by the same path as a created device. */
  async enrollAtLaunch(platform: Platform, names: string[], dataKey: DataKey): Promise<void> {
    await this.insert(
      [...new Set(names)].map((name) => this.newDevice(platform, { name }, dataKey).device),
    );
  }

  revokedCertificates(platform: Platform): Promise<RevokedCertificate[]> {
    return this.certificates.revokedForAuthority(platform);
  }

  async activeDeviceLogins(platform: Platform): Promise<DeviceLogin[]> {
    const active = await this.devices.find({
      where: { platformId: platform.id, revokedAt: IsNull() },
      order: { name: 'ASC' },
    });
    return active.map((device) => ({
      name: device.name,
      passwordRevealed: device.passwordRevealedAt !== null,
    }));
  }

  async activeDeviceUsers(platform: Platform, dataKey: DataKey): Promise<DeviceUser[]> {
    const active = await this.devices.find({
      where: { platformId: platform.id, revokedAt: IsNull() },
      order: { name: 'ASC' },
    });
    return active.map((device) => ({
      name: device.name,
      // A certificate-only device has none: no password opens its broker user.
      password:
        device.password === null
          ? null
          : dataKey.openField(platform.id, passwordField(device.name), device.password),
      legacyFanout: device.legacyFanout,
    }));
  }

  /** A new device record with a generated, sealed password (not stored yet); also the import's. */
  newDevice(platform: Platform, input: CreateDeviceInput, dataKey: DataKey): NewDevice {
    // The DTOs check the same; launch and API both come through here.
    if (!isDnsLabel(input.name)) throw badName(`name ${dnsLabelMessage()}`);
    if (RESERVED_DEVICE_NAMES.includes(input.name)) throw badName(RESERVED_DEVICE_NAME_MESSAGE);
    const authKind = input.authKind ?? 'password';
    const password = authKind === 'certificate' ? null : generateSecret();
    const device = this.devices.create({
      id: randomUUID(),
      userId: platform.userId,
      platformId: platform.id,
      name: input.name,
      activeName: `${platform.id}:${input.name}`,
      labels: input.labels ?? {},
      metadata: input.metadata ?? {},
      authKind,
      legacyFanout: input.legacyFanout ?? false,
      password:
        password === null
          ? null
          : dataKey.sealField(platform.id, passwordField(input.name), password),
      certificatePem: null,
      certificateExpiresAt: null,
      createdAt: new Date(),
      rotatedAt: null,
      revokedAt: null,
      passwordRevealedAt: null,
    });
    return { device, password };
  }

  /** Stores new devices; 409 for a taken name or one a valid revoked certificate still opens. */
  /** Which of `names` an earlier, revoked device of this platform had. */
  async previouslyRevoked(platform: Platform, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await this.devices.find({
      select: { name: true },
      where: { platformId: platform.id, name: In(names), revokedAt: Not(IsNull()) },
    });
    return [...new Set(rows.map((row) => row.name))];
  }

  async insert(devices: Device[]): Promise<void> {
    if (devices.length === 0) return;
    // The broker logs a certificate in by its CN alone: a revoked device's certificate that has
    // not expired would open a new device of the same name (there is no revocation list yet).
    const [haunted] = await this.devices.find({
      where: {
        platformId: devices[0]!.platformId,
        name: In(devices.map((device) => device.name)),
        revokedAt: Not(IsNull()),
        certificateExpiresAt: MoreThan(new Date()),
      },
      order: { certificateExpiresAt: 'DESC' },
    });
    if (haunted) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'NAME_HAS_VALID_CERTIFICATE',
        `"${haunted.name}" was revoked, but a certificate issued to it is valid until ` +
          `${haunted.certificateExpiresAt!.toISOString()} and would log in as a new device of ` +
          'that name: choose another name',
        [{ field: 'name', problems: ['a revoked certificate of this name is still valid'] }],
      );
    }
    try {
      // Free metadata is JSON, which TypeORM's deep-partial type cannot follow.
      await this.devices.insert(devices as QueryDeepPartialEntity<Device>[]);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ApiError(
        HttpStatus.CONFLICT,
        'DEVICE_NAME_TAKEN',
        devices.length === 1
          ? `The platform already has a device named "${devices[0]!.name}"`
          : 'The platform already has a device of one of these names',
        [{ field: 'name', problems: ['taken'] }],
      );
    }
  }

  /**
   * The platform's live state in one round trip, both asked at once over the platform's SSH
   * connection: the broker's connection list (one management call) and the processor's
   * per-device figures (one `docker exec` of its status port). Each has its time limit and is
   * null when it cannot be read; the request still answers.
   */
  private async liveState(
    auth: AuthContext,
    platform: Platform,
    ask: { connections: boolean } = { connections: true },
  ): Promise<LiveState> {
    const at = new Date();
    if (platform.status !== 'running' || !platform.hostKeyFingerprint) {
      return { connections: null, figures: null, at };
    }
    const keyring = this.access.open(await this.sessions.dataKey(auth.sessionId));
    const warn = (what: string) => (error: Error) => {
      this.logger.warn(`${what} of platform ${platform.id} unknown: ${error.message}`);
      return null;
    };
    const connections =
      ask.connections && platform.ports.rabbitmqManagement !== null
        ? withinStatusTimeout(
            this.brokerTarget(platform, keyring).then((target) =>
              this.broker.use(target, (api) => api.connectionsByUser(), STATUS_TIMEOUT_MS),
            ),
          ).catch(warn("devices' connections"))
        : Promise.resolve(null);
    const figures = withinStatusTimeout(
      keyring
        .sshTarget(platform)
        .then((target) => this.host.processorDevices({ platformId: platform.id, target })),
      FIGURES_TIMEOUT_MS,
    ).catch(warn("devices' reading figures"));
    return { connections: await connections, figures: await figures, at };
  }

  private async active(platform: Platform, name: string): Promise<Device> {
    const device = await this.devices.findOneBy({ activeName: `${platform.id}:${name}` });
    if (device) return device;
    const revoked = await this.devices.existsBy({ platformId: platform.id, name });
    if (!revoked) throw notFound(name);
    throw new ApiError(HttpStatus.CONFLICT, 'DEVICE_REVOKED', `Device "${name}" is revoked`);
  }

  /** The user's platform if it is running, else 409 PLATFORM_NOT_RUNNING. */
  async running(userId: string, platformId: string): Promise<Platform> {
    return requireRunning(await this.platforms.getOwned(userId, platformId));
  }

  /** How to reach the platform's broker management API (409 when it cannot be). */
  async brokerTarget(
    platform: Platform,
    keyring: PlatformKeyring,
  ): Promise<BrokerManagementTarget> {
    const port = platform.ports.rabbitmqManagement;
    if (port === null) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'BROKER_MANAGEMENT_UNAVAILABLE',
        "The platform's broker management API is not published on its host",
      );
    }
    // Passwords travel over this connection: only to a host whose key was recorded at launch.
    if (!platform.hostKeyFingerprint) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'HOST_KEY_UNKNOWN',
        "The platform's host key is not recorded yet; device changes need a launched platform",
      );
    }
    return {
      ssh: await keyring.sshTarget(platform),
      port,
      username: ADMIN_USER,
      password: keyring.secrets(platform).required('brokerAdminPassword'),
      mqtt: mqttListener(platform),
    };
  }

  private async applyToBroker(
    action: string,
    target: BrokerManagementTarget,
    name: string,
    work: (api: BrokerApi) => Promise<void>,
  ): Promise<void> {
    try {
      await this.broker.use(target, work);
    } catch (error) {
      throw brokerFailed(action, name, error);
    }
  }

  private record(
    auth: AuthContext,
    origin: RequestOrigin,
    type: AuditEventType,
    platform: Platform,
    device: string,
  ): Promise<void> {
    return this.audit.record(auth.userId, type, origin, {
      platformId: platform.id,
      platformName: platform.name,
      device,
    });
  }
}

/** The work's answer, or a rejection after `ms` (the work is left to finish). */
function withinStatusTimeout<T>(work: Promise<T>, ms = STATUS_TIMEOUT_MS): Promise<T> {
  work.catch(() => undefined);
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);
}

function notFound(name: string): ApiError {
  return new ApiError(HttpStatus.NOT_FOUND, 'DEVICE_NOT_FOUND', `No device named "${name}"`);
}

function badName(message: string): ApiError {
  return badInput('name', message);
}

function badInput(field: string, message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, [
    { field, problems: [message] },
  ]);
}

/** A device that has a password to rotate or reveal (not certificate-only; 409 otherwise). */
function withPassword(device: Device): Device & { password: string } {
  if (device.password === null) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      'DEVICE_WITHOUT_PASSWORD',
      `Device "${device.name}" logs in with its certificate only; renew the certificate instead`,
    );
  }
  return device as Device & { password: string };
}

/** The broker's words (no secret: management errors carry call, status and reason only). */
function brokerFailed(action: string, name: string, error: unknown): ApiError {
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(
    HttpStatus.BAD_GATEWAY,
    'BROKER_CHANGE_FAILED',
    `The platform's broker did not take the ${action} of "${name}"; nothing was changed: ${message}`,
  );
}

/**
 * The broker's MQTT listener the host's loopback reaches (retained commands): the plaintext one
 * when it is published, else the TLS one (a TLS platform leaves the plaintext listener
 * unpublished), checked against the platform CA and address; null when neither is published.
 */
export function mqttListener(platform: Platform): BrokerMqttListener | null {
  const { mqtt = null, mqtts = null } = platform.ports;
  if (mqtt !== null) return { port: mqtt, tls: null };
  if (mqtts !== null && platform.caCertificatePem && platform.address) {
    return {
      port: mqtts,
      tls: { caCertificatePem: platform.caCertificatePem, serverName: platform.address },
    };
  }
  return null;
}
