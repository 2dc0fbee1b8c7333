import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { StackSpec } from '@fieldstation/platform-stack';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ansibleLogger, infraLogger } from '../deployments/deployment-log-sinks';
import { DeploymentRunner, type DeploymentRun } from '../deployments/deployment-runner';
import { dataDevicePath } from '../infra';
import type { Deployment } from '../deployments/deployment.entity';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName, type DeploymentJobData } from '../jobs/job-names';
import { PlatformHost, ProcessorScriptRefusedError } from '../provision/platform-host';
import { SshClient } from '../provision/ssh-client';
import { PlatformAccess, type PlatformKeyring } from './platform-access';
import { PlatformInfrastructure } from './platform-infrastructure';
import { PlatformReadingAlerts } from './platform-reading-alerts';
import { isStep, LAUNCH_STEPS, type PlatformStep } from './platform-lifecycle';
import { PlatformRecords } from './platform-records';
import { RestoreUploads } from './platform-uploads';
import { brokerPorts, probeTcp } from './port-probe';
import { PlatformRetirementHooks } from './retirement-hooks';
import type { Platform } from './platform.entity';

const MINUTE = 60_000;
const STEP_TIMEOUT_MS: Record<
  PlatformStep | 'dump' | 'restore' | 'readings-retention' | 'reading-alerts',
  number
> = {
  provisioning_infra: 30 * MINUTE,
  waiting_for_host: 60 * MINUTE,
  configuring: 45 * MINUTE,
  verifying: 5 * MINUTE,
  updating: 20 * MINUTE,
  destroying: 30 * MINUTE,
  dump: 30 * MINUTE,
  restore: 60 * MINUTE,
  'readings-retention': 10 * MINUTE,
  'reading-alerts': 10 * MINUTE,
};
/** A deployment run of a platform job: the grant's data key is opened once, as a keyring. */
type PlatformRun = Omit<DeploymentRun, 'dataKey'> & { keyring: PlatformKeyring };
type PlatformJob = Job<DeploymentJobData>;

/**
 * The worker side of platforms: launch, destroy, processor update, dump and restore. Each
 * launch step is idempotent, so a retried, resumed or redelivered job continues where the
 * platform's status says it stopped.
 */
@Injectable()
export class PlatformJobs {
  constructor(
    private readonly runner: DeploymentRunner,
    private readonly platforms: PlatformRecords,
    private readonly access: PlatformAccess,
    private readonly uploads: RestoreUploads,
    private readonly infrastructure: PlatformInfrastructure,
    private readonly host: PlatformHost,
    private readonly ssh: SshClient,
    private readonly retirementHooks: PlatformRetirementHooks,
    private readonly readingAlerts: PlatformReadingAlerts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs a platform deployment with the grant's data key opened once for the whole run. */
  private run(
    job: PlatformJob,
    work: (run: PlatformRun) => Promise<void>,
    onFailure: (deployment: Deployment) => Promise<void> = async () => undefined,
  ): Promise<void> {
    return this.runner.run(
      job,
      ({ dataKey, ...run }) => work({ ...run, keyring: this.access.open(dataKey) }),
      onFailure,
    );
  }

  @OnJob(JobName.PlatformLaunch)
  async launch(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(
      job,
      async (run) => {
        const platform = await this.platforms.getById(run.deployment.targetId);
        for (const step of this.remainingLaunchSteps(platform)) {
          await this.platforms.moveTo(platform.id, step);
          await run.step(step, STEP_TIMEOUT_MS[step], (signal) =>
            this.launchStep(step, run, signal),
          );
        }
        await this.platforms.moveTo(platform.id, 'running');
      },
      (deployment) => this.markFailed(deployment),
    );
  }

  @OnJob(JobName.PlatformDestroy)
  async destroy(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(
      job,
      async (run) => {
        const platform = await this.platforms.moveTo(run.deployment.targetId, 'destroying');
        await run.step('destroying', STEP_TIMEOUT_MS.destroying, async (signal) => {
          if (platform.target === 'ssh-host') {
            // Nothing was put on the host before configuring began.
            if (!platform.hostKeyFingerprint) return;
            await this.host.teardown({
              ...(await this.operation(run, platform, signal)),
              removeData: platform.removeDataOnDestroy,
            });
          } else {
            await this.infrastructure.destroy(platform, run.keyring, infraLogger(run), signal);
          }
        });
        await this.platforms.moveTo(platform.id, 'destroyed');
        // The platform is gone either way; what is left over is let go of again on removal.
        await this.retirementHooks
          .run(platform.id)
          .catch((error: Error) =>
            run.log({ level: 'warn', message: `Cleaning up after the platform: ${error.message}` }),
          );
      },
      (deployment) => this.markFailed(deployment),
    );
  }

  @OnJob(JobName.PlatformUpdateProcessor)
  async updateProcessor(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(
      job,
      async (run) => {
        const platform = await this.platforms.moveTo(run.deployment.targetId, 'updating');
        try {
          await run.step('updating', STEP_TIMEOUT_MS.updating, async (signal) =>
            this.host.updateProcessor({
              ...(await this.operation(run, platform, signal)),
              spec: await run.keyring.stackSpec(platform),
            }),
          );
        } catch (error) {
          // The host kept the running processor: so does the record, and the platform runs on.
          if (error instanceof ProcessorScriptRefusedError) {
            await this.platforms.moveTo(platform.id, 'running', {
              processorScript: platform.previousProcessorScript ?? platform.processorScript,
              processorPackages: platform.previousProcessorPackages ?? platform.processorPackages,
            });
          }
          throw error;
        }
        await this.platforms.moveTo(platform.id, 'running');
      },
      (deployment) => this.markFailed(deployment),
    );
  }

  /**
   * Applies the record's retention in the running database; nothing else on the host changes.
   * When it fails the record goes back to the retention in force before, as the host has it.
   */
  @OnJob(JobName.PlatformReadingsRetention)
  async readingsRetention(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(
      job,
      async (run) => {
        const platform = await this.platforms.getById(run.deployment.targetId);
        const days = platform.readingsRetentionDays;
        await run.step(
          'readings-retention',
          STEP_TIMEOUT_MS['readings-retention'],
          async (signal) =>
            this.host.applyReadingsRetention({
              ...(await this.operation(run, platform, signal)),
              database: platform.database,
              days,
            }),
        );
        await run.log({
          message: days === null ? 'Readings are kept for ever' : `Readings are kept ${days} days`,
        });
      },
      async (deployment) => {
        const platform = await this.platforms.getById(deployment.targetId);
        await this.platforms.save(platform.id, {
          readingsRetentionDays: platform.previousReadingsRetentionDays,
        });
      },
    );
  }

  /**
   * Gives the running Grafana the platform's current reading thresholds (alerts/ queues this
   * after a change); nothing else on the host changes.
   */
  @OnJob(JobName.PlatformReadingAlerts)
  async applyReadingAlerts(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(job, async (run) => {
      const platform = await this.platforms.getById(run.deployment.targetId);
      const spec = await this.launchSpec(run, platform);
      await run.step('reading-alerts', STEP_TIMEOUT_MS['reading-alerts'], async (signal) =>
        this.host.applyReadingAlerts({ ...(await this.operation(run, platform, signal)), spec }),
      );
      // Only a reload that answered success confirms the deletions it listed.
      await this.readingAlerts.deletionsApplied(platform.id, spec.deletedReadingAlertUids ?? []);
      const count = spec.readingAlerts?.length ?? 0;
      await run.log({
        message: `Grafana evaluates ${count} reading threshold${count === 1 ? '' : 's'}`,
      });
    });
  }

  /**
   * The stack as a launch renders it: the record's spec with the reading thresholds and the
   * deleted ones Grafana may still have (its `deleteRules`).
   */
  private async launchSpec(run: PlatformRun, platform: Platform): Promise<StackSpec> {
    const { rules, deletedUids } = await this.readingAlerts.forPlatform(platform);
    return {
      ...(await run.keyring.stackSpec(platform)),
      readingAlerts: rules,
      deletedReadingAlertUids: deletedUids,
    };
  }

  @OnJob(JobName.PlatformDump)
  async dump(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(job, async (run) => {
      const platform = await this.platforms.getById(run.deployment.targetId);
      const { remotePath } = await run.step('dump', STEP_TIMEOUT_MS.dump, async (signal) =>
        this.host.dump({
          ...(await this.operation(run, platform, signal)),
          database: platform.database,
        }),
      );
      await this.platforms.save(platform.id, { dumpPath: remotePath, dumpCreatedAt: new Date() });
      await run.log({ message: 'The dump is ready to download' });
    });
  }

  @OnJob(JobName.PlatformRestore)
  async restore(_data: DeploymentJobData, job: PlatformJob): Promise<void> {
    await this.run(job, async (run) => {
      const platform = await this.platforms.getById(run.deployment.targetId);
      await run.step('restore', STEP_TIMEOUT_MS.restore, async (signal) =>
        this.uploads.withUpload(run.deployment.userId, job.id!, async (dumpFile) =>
          this.host.restore({
            ...(await this.operation(run, platform, signal)),
            spec: await run.keyring.stackSpec(platform),
            dumpFile,
            readingsRetentionDays: platform.readingsRetentionDays,
          }),
        ),
      );
    });
    // Reached only once the deployment ended (a transient error rethrows for another attempt).
    await this.uploads.removeFor(job.id!);
  }

  private remainingLaunchSteps(platform: Platform): PlatformStep[] {
    let from: PlatformStep;
    if (platform.status === 'queued') {
      from = platform.target === 'ssh-host' ? 'waiting_for_host' : 'provisioning_infra';
    } else if (platform.status === 'failed' && platform.failedStep) {
      from = platform.failedStep;
    } else if (isStep(platform.status)) {
      from = platform.status; // a worker died in this step: run it again
    } else {
      return [];
    }
    return LAUNCH_STEPS.slice(LAUNCH_STEPS.indexOf(from));
  }

  private async launchStep(step: PlatformStep, run: PlatformRun, signal: AbortSignal) {
    const platform = await this.platforms.getById(run.deployment.targetId);
    switch (step) {
      case 'provisioning_infra': {
        const outputs = await this.infrastructure.apply(
          platform,
          run.keyring,
          infraLogger(run),
          signal,
        );
        const { publicIp, ...rest } = outputs;
        await this.platforms.save(platform.id, { address: publicIp, outputs: rest });
        await run.log({ message: `The VM's address is ${publicIp}` });
        return;
      }
      case 'waiting_for_host': {
        const target = await run.keyring.sshTarget(platform);
        if (platform.target === 'ssh-host' && !platform.address) {
          await this.platforms.save(platform.id, { address: target.host });
        }
        await run.log({ message: `Waiting for SSH on ${target.host}:${target.port}` });
        const hostKey = await this.ssh.waitUntilReachable(target, {
          timeoutMs: this.config.sshWaitSeconds * 1000,
          signal,
        });
        if (!platform.hostKeyFingerprint) {
          await this.platforms.save(platform.id, { hostKeyFingerprint: hostKey.fingerprint });
          await run.log({ message: `Host key ${hostKey.fingerprint} recorded (first contact)` });
        }
        return;
      }
      case 'configuring': {
        let configured = platform;
        const tls = await run.keyring.issueTls(platform);
        if (tls) {
          configured = { ...platform, ...tls };
          const kept = await this.platforms.saveIfCertificateAuthority(
            platform.id,
            platform.caCertificatePem,
            tls,
          );
          if (!kept) {
            // A copy-from stored its CA meanwhile: issue the server certificate under that one.
            const current = await this.platforms.getById(platform.id);
            const reissued = await run.keyring.issueTls(current);
            configured = { ...current, ...reissued };
            if (reissued) await this.platforms.save(platform.id, reissued);
          }
        }
        await this.host.launch({
          ...(await this.operation(run, configured, signal)),
          spec: await this.launchSpec(run, configured),
          images: this.config.imageSupply,
          dataDevice: dataDevice(configured),
          readingsRetentionDays: configured.readingsRetentionDays,
        });
        return;
      }
      case 'verifying': {
        for (const { name, port } of brokerPorts(platform.ports)) {
          if (!(await waitForPort(platform.address!, port, signal))) {
            throw new Error(
              `${name} port ${port} on ${platform.address} does not accept connections; ` +
                'check the firewall or security group',
            );
          }
          await run.log({ message: `${name} answers on ${platform.address}:${port}` });
        }
        return;
      }
      default:
        throw new Error(`${step} is not a launch step`);
    }
  }

  private async operation(run: PlatformRun, platform: Platform, signal: AbortSignal) {
    return {
      platformId: platform.id,
      target: await run.keyring.sshTarget(platform),
      onEvent: ansibleLogger(run),
      signal,
    };
  }

  private async markFailed(deployment: Deployment): Promise<void> {
    const platform = await this.platforms.getById(deployment.targetId);
    if (isStep(platform.status)) await this.platforms.moveTo(platform.id, 'failed');
  }
}

function dataDevice(platform: Platform): string | undefined {
  if (platform.target === 'ssh-host') {
    return typeof platform.options.dataDevice === 'string'
      ? platform.options.dataDevice
      : undefined;
  }
  const volumeId = platform.outputs?.dataVolumeId;
  return volumeId ? dataDevicePath(platform.target, volumeId) : undefined;
}

async function waitForPort(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (await probeTcp(host, port, 3000)) return true;
    await delay(2000, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
