import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { HttpStatus, Injectable } from '@nestjs/common';
import {
  checkRetentionDays,
  defaultStackPorts,
  InvalidRetentionError,
  readScriptTemplate,
} from '@fieldstation/platform-stack';
import type { AuthContext } from '../common/auth-context';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import { assertCredentialFor } from '../credentials/cloud-credentials';
import { CredentialsService } from '../credentials/credentials.service';
import { DeploymentStarter } from '../deployments/deployment-starter';
import type { DeploymentAction } from '../deployments/deployment.entity';
import { JobName, type DeploymentJobName } from '../jobs/job-names';
import { PlatformHost } from '../provision/platform-host';
import { SpacesService } from '../spaces/spaces.service';
import type {
  DestroyPlatformInput,
  LaunchPlatformInput,
  UpdateProcessorInput,
} from './dto/launch-platform.dto';
import type { ConnectionDto } from './dto/platform.dto';
import { assertDistinctPorts, assertPortsFreeOnHost } from './launch-ports';
import { NpmRegistry } from './npm-registry';
import { assertValidScript } from './processor-script';
import { PlatformAccess, type PlatformKeyring } from './platform-access';
import { PlatformDevices } from './platform-devices';
import { PlatformLaunchHooks } from './launch-hooks';
import {
  canTransition,
  IllegalTransitionError,
  processorScriptChange,
  retryStep,
  type PlatformStatus,
} from './platform-lifecycle';
import { PlatformInfrastructure } from './platform-infrastructure';
import { PlatformRecords } from './platform-records';
import { generatePlatformSecrets, sealSecrets } from './platform-secrets';
import type { Platform } from './platform.entity';
import { RestoreUploads } from './platform-uploads';

/** Every API request about platforms (the records live in PlatformRecords; jobs do the work). */
@Injectable()
export class PlatformsService {
  constructor(
    private readonly platforms: PlatformRecords,
    private readonly credentials: CredentialsService,
    private readonly spaces: SpacesService,
    private readonly sessions: SessionsService,
    private readonly starter: DeploymentStarter,
    private readonly npm: NpmRegistry,
    private readonly infrastructure: PlatformInfrastructure,
    private readonly access: PlatformAccess,
    private readonly host: PlatformHost,
    private readonly uploads: RestoreUploads,
    private readonly devices: PlatformDevices,
    private readonly launchHooks: PlatformLaunchHooks,
  ) {}

  list(userId: string): Promise<Platform[]> {
    return this.platforms.listOwned(userId);
  }

  get(userId: string, id: string): Promise<Platform> {
    return this.platforms.getOwned(userId, id);
  }

  async launch(auth: AuthContext, input: LaunchPlatformInput) {
    assertValidScript(input.processor?.script);
    const credential = await this.credentials.get(auth.userId, input.credentialId);
    assertCredentialFor(credential, input.target);
    const needsSpace = input.target === 'aws' || input.target === 'openstack';
    if (needsSpace && !input.spaceId) {
      throw badField('spaceId', 'SPACE_REQUIRED', `A ${input.target} platform needs a space`);
    }
    if (!needsSpace && input.spaceId) {
      throw badField('spaceId', 'SPACE_NOT_NEEDED', `A ${input.target} platform needs no space`);
    }
    if (input.spaceId) {
      const space = await this.spaces.get(auth.userId, input.spaceId);
      if (space.target !== input.target || space.status !== 'ready') {
        throw badField(
          'spaceId',
          'SPACE_NOT_READY',
          space.target !== input.target
            ? `Space "${space.name}" is a ${space.target} space`
            : `Space "${space.name}" is ${space.status}, not ready`,
        );
      }
    }
    const packages = input.processor?.packages ?? {};
    const warnings = await this.npm.check(packages);
    // Devices send passwords: plain listeners only when the user turns TLS off.
    const tls = input.tls ?? true;
    const deviceUsers = [...new Set(input.deviceUsers ?? ['device-1'])];
    const id = randomUUID();
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const platform = this.platforms.create({
      id,
      userId: auth.userId,
      name: input.name,
      activeName: `${auth.userId}:${input.name}`,
      target: input.target,
      credentialId: input.credentialId,
      spaceId: input.spaceId ?? null,
      database: input.database ?? 'postgres',
      dataVolumeGb: input.dataVolumeGb ?? 20,
      readingsRetentionDays: retentionDays(input.readingsRetentionDays ?? null),
      previousReadingsRetentionDays: null,
      tls,
      ports: { ...defaultStackPorts(tls), ...definedFields(input.ports) },
      options: definedFields(input.options),
      status: 'queued',
      failedStep: null,
      address: null,
      hostKeyFingerprint: null,
      outputs: null,
      deviceUsers,
      secrets: sealSecrets(dataKey, id, generatePlatformSecrets()),
      caCertificatePem: null,
      tlsCertificateExpiresAt: null,
      processorScript: input.processor?.script ?? readScriptTemplate(),
      processorPackages: packages,
      previousProcessorScript: null,
      previousProcessorPackages: null,
      grafanaPasswordRevealed: false,
      removeDataOnDestroy: false,
      health: null,
      dumpPath: null,
      dumpCreatedAt: null,
    });
    assertDistinctPorts(platform.ports);
    await assertPortsFreeOnHost(
      this.platforms,
      this.credentials,
      auth.userId,
      platform,
      credential,
    );
    // Cloud options are checked now by the infra seam's schema: a typo is a 400, not a failed job.
    await this.infrastructure.validate(platform);
    await this.platforms.insert(platform);
    // The device registry holds the fleet; the launch renders it (same path as adding a device).
    await this.devices.enrollAtLaunch(platform, deviceUsers, dataKey);
    await this.launchHooks.run(platform);
    const deploymentId = await this.start(auth, platform, 'launch', JobName.PlatformLaunch);
    return { platform, deploymentId, warnings };
  }

  async destroy(auth: AuthContext, id: string, input: DestroyPlatformInput) {
    const platform = await this.get(auth.userId, id);
    this.assertCan(platform, 'destroying');
    await this.platforms.save(id, { removeDataOnDestroy: input.removeData ?? false });
    return this.start(auth, platform, 'destroy', JobName.PlatformDestroy);
  }

  /** Resumes a failed platform at its failed step (DESIGN §5). */
  async retry(auth: AuthContext, id: string): Promise<string> {
    const platform = await this.get(auth.userId, id);
    const step = retryStep(platform);
    if (step === 'destroying')
      return this.start(auth, platform, 'destroy', JobName.PlatformDestroy);
    if (step === 'updating') {
      return this.start(auth, platform, 'update-processor', JobName.PlatformUpdateProcessor);
    }
    return this.start(auth, platform, 'launch', JobName.PlatformLaunch);
  }

  /**
   * Deploys a new script to a running platform (or one failed at updating). A platform whose
   * launch failed stores it and resumes its launch, which installs it: a script that did not load
   * at launch is fixed without destroying anything.
   */
  async updateProcessor(auth: AuthContext, id: string, input: UpdateProcessorInput) {
    const platform = await this.get(auth.userId, id);
    const change = processorScriptChange(platform);
    assertValidScript(input.script);
    const packages = input.packages ?? {};
    const warnings = await this.npm.check(packages);
    if (change.kind === 'relaunch') {
      const deploymentId = await this.start(auth, platform, 'launch', JobName.PlatformLaunch, () =>
        this.platforms.saveFailed(
          id,
          { processorScript: input.script, processorPackages: packages },
          change.from,
        ),
      );
      return { deploymentId, warnings };
    }
    // Stored once the deployment is recorded (a 409 leaves the running script's record intact)
    // and before its job is queued (a worker must not build the stack from the old script).
    const deploymentId = await this.start(
      auth,
      platform,
      'update-processor',
      JobName.PlatformUpdateProcessor,
      () =>
        this.platforms.save(id, {
          processorScript: input.script,
          processorPackages: packages,
          previousProcessorScript: platform.processorScript,
          previousProcessorPackages: platform.processorPackages,
        }),
    );
    return { deploymentId, warnings };
  }

  /**
   * Changes how long the running platform keeps readings: a small deployment with its own log
   * (one command in the database container), not a re-launch. Stored once the deployment is
   * recorded, so a 409 (something else runs) changes nothing; the value in force before is kept
   * beside it, put back if the deployment fails (platform-jobs.ts).
   */
  async setReadingsRetention(auth: AuthContext, id: string, days: number | null) {
    const platform = await this.assertRunning(auth.userId, id);
    const checked = retentionDays(days);
    return this.start(auth, platform, 'readings-retention', JobName.PlatformReadingsRetention, () =>
      this.platforms.save(id, {
        readingsRetentionDays: checked,
        previousReadingsRetentionDays: platform.readingsRetentionDays,
      }),
    );
  }

  async requestDump(auth: AuthContext, id: string): Promise<string> {
    const platform = await this.assertRunning(auth.userId, id);
    return this.start(auth, platform, 'dump', JobName.PlatformDump);
  }

  /**
   * Checks the platform and that nothing else runs on it before reading a byte of the upload,
   * then streams the dump to disk (size limit, per-user quota) and queues its restore.
   */
  async requestRestore(
    auth: AuthContext,
    id: string,
    upload: IncomingMessage,
    declaredBytes: number | undefined,
  ): Promise<string> {
    const platform = await this.assertRunning(auth.userId, id);
    const target = { kind: 'platform' as const, id };
    await this.starter.assertIdle(target);
    const limit = this.uploads.limitFor(platform.dataVolumeGb);
    const received = await this.uploads.receive(auth.userId, upload, declaredBytes, limit);
    try {
      return await this.starter.start(
        auth,
        target,
        'restore',
        JobName.PlatformRestore,
        (deploymentId) => received.keepFor(deploymentId),
      );
    } catch (error) {
      await received.discard();
      throw error;
    }
  }

  /** Streams the newest dump from the host (the request's session opens the SSH key). */
  async openDump(auth: AuthContext, id: string): Promise<{ stream: Readable; filename: string }> {
    const platform = await this.get(auth.userId, id);
    if (!platform.dumpPath) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'NO_DUMP', 'No dump yet: make one first');
    }
    const target = await (await this.keyring(auth)).sshTarget(platform);
    const stream = await this.host.openDump(target, platform.dumpPath);
    return { stream, filename: `${platform.name}-${basename(platform.dumpPath)}` };
  }

  async connection(auth: AuthContext, id: string): Promise<ConnectionDto> {
    const platform = await this.get(auth.userId, id);
    const keyring = await this.keyring(auth);
    const host = platform.address ?? '';
    const { ports } = platform;
    const url = (scheme: string, port: number | null) =>
      host && port !== null ? `${scheme}://${host}:${port}` : null;
    return {
      host,
      mqttUrl: platform.tls ? url('mqtts', ports.mqtts) : url('mqtt', ports.mqtt),
      amqpUrl: platform.tls ? url('amqps', ports.amqps) : url('amqp', ports.amqp),
      ports,
      tls: platform.tls,
      caCertificatePem: platform.caCertificatePem,
      // Never a password here: a launch device's is revealed once through the device registry.
      devices: (await this.devices.activeDeviceLogins(platform)).map(
        ({ name, passwordRevealed }) => ({ username: name, passwordRevealed }),
      ),
      mqttTopic: 'telemetry/<measurement>/<device>',
      amqpExchange: 'amq.topic',
      amqpRoutingKey: 'telemetry.<measurement>.<device>',
      ...(await this.grafanaAccess(platform, keyring)),
      grafanaUsername: 'admin',
      grafanaPasswordRevealed: platform.grafanaPasswordRevealed,
    };
  }

  /**
   * With TLS, Grafana is public over HTTPS. Without it, Grafana is published on the host's
   * loopback only (its login would cross the network in the clear): the user opens an SSH port
   * forward, built here from the validated SSH target, and browses to it locally.
   */
  private async grafanaAccess(
    platform: Platform,
    keyring: PlatformKeyring,
  ): Promise<{ grafanaUrl: string | null; grafanaTunnel: string | null }> {
    const port = platform.ports.grafana;
    if (port === null || !platform.address) return { grafanaUrl: null, grafanaTunnel: null };
    if (platform.tls) {
      return { grafanaUrl: `https://${platform.address}:${port}`, grafanaTunnel: null };
    }
    const ssh = await keyring.sshTarget(platform);
    return {
      grafanaUrl: `http://127.0.0.1:${port}`,
      grafanaTunnel: `ssh -N -L ${port}:127.0.0.1:${port} -p ${ssh.port} ${ssh.username}@${ssh.host}`,
    };
  }

  async assertRunning(userId: string, id: string): Promise<Platform> {
    const platform = await this.get(userId, id);
    if (platform.status !== 'running') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_NOT_RUNNING',
        `The platform is ${platform.status.replace('_', ' ')}, not running`,
      );
    }
    return platform;
  }

  /** The one-time Grafana admin password: answered once, 409 afterwards. */
  async revealGrafanaPassword(auth: AuthContext, id: string): Promise<string> {
    const platform = await this.get(auth.userId, id);
    if (!(await this.platforms.markGrafanaPasswordRevealed(id))) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'ALREADY_REVEALED',
        'The Grafana admin password was already shown once; change it in Grafana if it is lost',
      );
    }
    return (await this.keyring(auth)).secrets(platform).required('grafanaAdminPassword');
  }

  /** The request's session opens the platform's secrets. */
  private async keyring(auth: AuthContext) {
    return this.access.open(await this.sessions.dataKey(auth.sessionId));
  }

  private assertCan(platform: Platform, to: PlatformStatus): void {
    if (!canTransition(platform, to)) throw new IllegalTransitionError(platform.status, to);
  }

  private start(
    auth: AuthContext,
    platform: Platform,
    action: DeploymentAction,
    job: DeploymentJobName,
    prepare?: () => Promise<unknown>,
  ): Promise<string> {
    return this.starter.start(
      auth,
      { kind: 'platform', id: platform.id },
      action,
      job,
      prepare && (async () => void (await prepare())),
    );
  }
}

/** Validated DTO instances carry every declared field, unset ones as undefined: drop those. */
function definedFields<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(value ?? {}).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

function badField(field: string, code: string, message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, code, message, [{ field, problems: [message] }]);
}

/** platform-stack's one check of the days, as a 400 naming the field. */
function retentionDays(days: unknown): number | null {
  try {
    return checkRetentionDays(days);
  } catch (error) {
    if (error instanceof InvalidRetentionError) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_RETENTION',
        `readingsRetentionDays ${error.message}`,
      );
    }
    throw error;
  }
}
