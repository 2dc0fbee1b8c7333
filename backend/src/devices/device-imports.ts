import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { deviceBrokerAccess } from '@fieldstation/platform-stack';
import type { Job } from 'bullmq';
import { Equal, In, IsNull, Or, Repository } from 'typeorm';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { RequestOrigin } from '../common/request-origin';
import type { DataKey } from '../crypto/data-key';
import { DeploymentRunner } from '../deployments/deployment-runner';
import { DeploymentStarter } from '../deployments/deployment-starter';
import type { DeploymentStatus } from '../deployments/deployment.entity';
import { DeploymentsService } from '../deployments/deployments.service';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName, type DeploymentJobData } from '../jobs/job-names';
import { PlatformAccess } from '../platforms/platform-access';
import { PlatformRecords } from '../platforms/platform-records';
import type { Platform } from '../platforms/platform.entity';
import type { PlatformKeyring } from '../platforms/platform-access';
import { BrokerManagement, type BrokerApi } from '../provision/broker-management';
import { commandTopic } from './command-topic';
import { DeviceCertificates, revocationListFailed, usesCertificate } from './device-certificates';
import { type ImportRow, parseDeviceCsv } from './device-csv';
import { type DeviceImportState, DeviceImportStore } from './device-import-store';
import { DeviceLocks } from './device-locks';
import { DeviceRegistry, passwordField } from './device-registry';
import { Device } from './device.entity';

/** Devices per broker call and per insert: one definitions import of 500 users takes ~1 s. */
const BATCH = 500;
const IMPORT_TIMEOUT_MS = 60 * 60_000;
/** How long a download whose answer was lost can be retried with its download token. */
const EXPORT_RETRY_MS = 10 * 60_000;

export interface DeviceImportStatus {
  id: string;
  status: DeploymentStatus;
  error: string | null;
  rows: number;
  total: number;
  done: number;
  created: number;
  skipped: string[];
  revoked: string[];
  passwordsAvailable: boolean;
}

/**
 * Bulk import of a platform's devices from a CSV (issue 14 item 7), run as a job (a deployment
 * of the platform, so it never overlaps a launch, update or destroy). The request checks every
 * row and answers at once (400 listing rows, 413 over 10,000 rows, 409 not running); the job
 * creates the new devices' broker users a batch at a time through the management API's
 * definitions import, revokes the active devices not in the list when asked (an allowlist), and
 * reports "done of total". Each new password is generated in the worker, sealed into its device
 * record at once, and handed out once by {@link exportPasswords}; no payload, Redis key, log or
 * error holds one.
 */
@Injectable()
export class DeviceImports {
  private readonly logger = new Logger(DeviceImports.name);

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    private readonly registry: DeviceRegistry,
    private readonly store: DeviceImportStore,
    private readonly starter: DeploymentStarter,
    private readonly runner: DeploymentRunner,
    private readonly deployments: DeploymentsService,
    private readonly platforms: PlatformRecords,
    private readonly access: PlatformAccess,
    private readonly sessions: SessionsService,
    private readonly broker: BrokerManagement,
    private readonly audit: AuditLog,
    private readonly locks: DeviceLocks,
    private readonly certificates: DeviceCertificates,
  ) {}

  async start(
    auth: AuthContext,
    platformId: string,
    input: { csv: string; revokeMissing?: boolean },
    origin: RequestOrigin,
  ): Promise<{ id: string; rows: number }> {
    const platform = await this.registry.running(auth.userId, platformId);
    const rows = parseDeviceCsv(input.csv);
    // 409 now (no management port, host key unknown) rather than a failed job.
    await this.registry.brokerTarget(
      platform,
      this.access.open(await this.sessions.dataKey(auth.sessionId)),
    );
    const id = await this.starter.start(
      auth,
      { kind: 'platform', id: platform.id },
      'device-import',
      JobName.DeviceImport,
      (deploymentId) =>
        this.store.create(
          deploymentId,
          {
            userId: auth.userId,
            platformId: platform.id,
            revokeMissing: input.revokeMissing === true,
            origin,
          },
          rows,
        ),
    );
    return { id, rows: rows.length };
  }

  async status(auth: AuthContext, platformId: string, id: string): Promise<DeviceImportStatus> {
    const state = await this.owned(auth, platformId, id);
    const deployment = await this.deployments.getById(id);
    return {
      id,
      status: deployment.status,
      error: deployment.error,
      rows: state.rows,
      total: state.total,
      done: state.done,
      created: state.created.length,
      skipped: state.skipped,
      revoked: state.revoked,
      passwordsAvailable:
        isFinished(deployment.status) &&
        state.passwordsExportedAt === null &&
        state.created.length > 0,
    };
  }

  /**
   * The new devices' passwords as CSV `name,password`, once: a second call is 410, except a retry
   * with the first call's `downloadToken` within {@link EXPORT_RETRY_MS} (its answer may have
   * been lost on the way), which gets the same passwords again. Only devices still active whose
   * password nobody else has seen (not rotated, not revealed) are in it. A failed import's
   * created devices are there too: its devices stay when a later step (revoking) failed.
   */
  async exportPasswords(
    auth: AuthContext,
    platformId: string,
    id: string,
    origin: RequestOrigin,
    downloadToken: string | null = null,
  ): Promise<string> {
    const state = await this.owned(auth, platformId, id);
    const deployment = await this.deployments.getById(id);
    if (!isFinished(deployment.status)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'IMPORT_NOT_FINISHED',
        `The import is ${deployment.status}; its passwords are there once it has finished`,
      );
    }
    const now = new Date();
    const taken = await this.store.claimExport(id, now, downloadToken);
    const retry =
      taken !== null &&
      downloadToken !== null &&
      taken.downloadToken === downloadToken &&
      now.getTime() - taken.at.getTime() <= EXPORT_RETRY_MS;
    if (taken !== null && !retry) {
      throw new ApiError(
        HttpStatus.GONE,
        'PASSWORDS_ALREADY_EXPORTED',
        "This import's passwords were downloaded once already; rotate a device for a new one",
      );
    }
    // A retry answers the devices the first download marked (at its time), and any it did not get
    // to mark (it failed between its claim and its marks), nothing more.
    const revealedAt = taken?.at ?? now;
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const lines = ['name,password'];
    const shown: string[] = [];
    for (const names of batches(state.created)) {
      const unseen = await this.devices.find({
        where: {
          platformId,
          name: In(names),
          revokedAt: IsNull(),
          passwordRevealedAt: retry ? Or(Equal(revealedAt), IsNull()) : IsNull(),
        },
        order: { name: 'ASC' },
      });
      if (unseen.length === 0) continue;
      await this.devices.update(
        { id: In(unseen.map((device) => device.id)), passwordRevealedAt: IsNull() },
        { passwordRevealedAt: revealedAt },
      );
      for (const device of unseen) {
        if (device.password === null) continue;
        const password = dataKey.openField(platformId, passwordField(device.name), device.password);
        lines.push(`${device.name},${password}`);
        shown.push(device.name);
      }
    }
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    await this.audit.recordMany(
      auth.userId,
      AuditEventType.DevicePasswordRevealed,
      origin,
      shown.map((device) => ({
        ...auditDetails(platform, device, id),
        download: retry ? 'retry' : 'first',
      })),
    );
    return `${lines.join('\n')}\n`;
  }

  @OnJob(JobName.DeviceImport)
  async run(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      (run) =>
        run.step('importing devices', IMPORT_TIMEOUT_MS, () =>
          this.apply(run.deployment.id, run.dataKey, (line) => run.log(line)),
        ),
      async () => undefined,
    );
  }

  /**
   * Creates the new devices batch by batch (rows, then broker users), saving the names created
   * after each batch; a failure while creating deletes the broker users and rows made so far
   * (and their names), so it leaves nothing. Then revokes the missing ones when asked, a batch at
   * a time under their device locks: certificates listed as revoked (registry, then the host's
   * list), broker users deleted, records marked. A failure while revoking keeps the devices
   * created: they are on the broker, and their passwords can be exported once.
   */
  private async apply(
    id: string,
    dataKey: DataKey,
    log: (line: { level: 'info' | 'warn'; message: string }) => Promise<void>,
  ): Promise<void> {
    const state = (await this.store.get(id))!;
    const rows = await this.store.rows(id);
    const platform = await this.platforms.getById(state.platformId);
    if (platform.status !== 'running') {
      throw new Error(`The platform is ${platform.status}, not running; nothing was imported`);
    }
    const keyring = this.access.open(dataKey);
    const target = await this.registry.brokerTarget(platform, keyring);
    const active = await this.devices.find({
      where: { platformId: platform.id, revokedAt: IsNull() },
      select: { id: true, name: true },
    });
    const activeNames = new Set(active.map(({ name }) => name));
    const listed = new Set(rows.map(({ name }) => name));
    const toCreate: ImportRow[] = rows.filter(({ name }) => !activeNames.has(name));
    const skipped = rows.filter(({ name }) => activeNames.has(name)).map(({ name }) => name);
    const toRevoke = state.revokeMissing ? active.filter(({ name }) => !listed.has(name)) : [];
    const total = toCreate.length + toRevoke.length;
    let done = 0;
    await this.store.progress(id, done, total);
    await log({
      level: 'info',
      message: `${toCreate.length} to create, ${skipped.length} already active (skipped), ${toRevoke.length} to revoke`,
    });

    const made: Device[] = [];
    const revoked: string[] = [];
    const finish = async () => {
      const created = made.map(({ name }) => name);
      await this.audit.recordMany(
        state.userId,
        AuditEventType.DeviceCreated,
        state.origin,
        created.map((name) => auditDetails(platform, name, id)),
      );
      await this.audit.recordMany(
        state.userId,
        AuditEventType.DeviceRevoked,
        state.origin,
        revoked.map((name) => auditDetails(platform, name, id)),
      );
      await this.store.finish(id, { created, skipped, revoked });
      await log({
        level: 'info',
        message: `${made.length} created, ${skipped.length} skipped, ${revoked.length} revoked`,
      });
    };
    await this.broker.use(target, async (api) => {
      try {
        for (const batch of batches(toCreate)) {
          const fresh = batch.map((row) => this.registry.newDevice(platform, row, dataKey));
          await this.registry.insert(fresh.map(({ device }) => device));
          made.push(...fresh.map(({ device }) => device));
          // Retained commands of earlier, revoked devices of these names go first (as a create).
          await api.clearRetained(
            (
              await this.registry.previouslyRevoked(
                platform,
                fresh.map(({ device }) => device.name),
              )
            ).map(commandTopic),
          );
          await api.putUsers(
            fresh.map(({ device, password }) => ({
              name: device.name,
              password: password!,
              access: deviceBrokerAccess(device.name, { legacyFanout: false }),
            })),
          );
          await this.store.created(
            id,
            made.map(({ name }) => name),
          );
          done += batch.length;
          await this.store.progress(id, done, total);
        }
      } catch (error) {
        await api.deleteUsers(made.map(({ name }) => name)).catch(() => undefined);
        for (const batch of batches(made)) await this.devices.delete(batch.map((d) => d.id));
        await this.store.created(id, []);
        throw error;
      }
      try {
        for (const batch of batches(toRevoke)) {
          const names = batch.map(({ name }) => name);
          await this.locks.holdAll(platform.id, names, async () => {
            revoked.push(...(await this.revokeBatch(platform, keyring, api, names)));
          });
          done += batch.length;
          await this.store.progress(id, done, total);
        }
      } catch (error) {
        await finish();
        throw error;
      }
    });
    await finish();
  }

  /**
   * Revokes those of `names` still active (under their locks): certificate devices' certificates
   * are listed on the host first, because that can be taken back if the broker then refuses and
   * a deleted broker user cannot. Returns the names revoked.
   */
  private async revokeBatch(
    platform: Platform,
    keyring: PlatformKeyring,
    api: BrokerApi,
    names: string[],
  ): Promise<string[]> {
    const devices = await this.devices.find({
      where: { platformId: platform.id, name: In(names), revokedAt: IsNull() },
      select: { id: true, name: true, authKind: true, certificatePem: true },
    });
    const withCertificate = devices.filter(
      (device) => usesCertificate(device.authKind) && device.certificatePem !== null,
    );
    const serials: string[] = [];
    const unlist = async () => {
      for (const serial of serials) await this.certificates.unlistRevoked(platform, serial);
    };
    if (withCertificate.length > 0) {
      for (const device of withCertificate) {
        serials.push(await this.certificates.listRevoked(platform, device));
      }
      try {
        await this.certificates.publishRevocationList(platform, keyring);
      } catch (error) {
        await unlist();
        throw revocationListFailed('revoke', withCertificate[0]!.name, error);
      }
    }
    try {
      await api.deleteUsers(devices.map(({ name }) => name));
    } catch (error) {
      if (serials.length > 0) {
        await unlist();
        await this.certificates.publishRevocationList(platform, keyring).catch(() => undefined);
      }
      throw error;
    }
    // Their retained commands go too (one MQTT connection for the batch), so a device created
    // later under one of these names does not get one; the revocation does not wait on it.
    await api
      .clearRetained(devices.map(({ name }) => commandTopic(name)))
      .catch((error: Error) =>
        this.logger.warn(`retained commands of revoked devices left: ${error.message}`),
      );
    await this.devices.update(
      { id: In(devices.map((device) => device.id)) },
      { revokedAt: new Date(), activeName: null, password: null },
    );
    return devices.map(({ name }) => name);
  }

  /** The import's state if it is this user's, of this platform; else 404. */
  private async owned(
    auth: AuthContext,
    platformId: string,
    id: string,
  ): Promise<DeviceImportState> {
    await this.platforms.getOwned(auth.userId, platformId);
    const state = await this.store.get(id);
    if (!state || state.userId !== auth.userId || state.platformId !== platformId) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'IMPORT_NOT_FOUND', `No device import ${id}`);
    }
    return state;
  }
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += BATCH) {
    yield items.slice(start, start + BATCH);
  }
}

function auditDetails(platform: Platform, device: string, importId: string) {
  return { platformId: platform.id, platformName: platform.name, device, importId };
}

function isFinished(status: DeploymentStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}
