import type { IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { SessionsService } from '../auth/sessions.service';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { mapWithConcurrency } from '../common/map-with-concurrency';
import type { Deployment, DeploymentAction } from '../deployments/deployment.entity';
import { DeploymentsService } from '../deployments/deployments.service';
import { JobQueue } from '../jobs/job-queue.service';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName } from '../jobs/job-names';
import { PlatformHost, type PlatformHostStatus } from '../provision/platform-host';
import { type PlatformHealthObservation, PlatformHealthObservers } from './health-observers';
import { PlatformAccess } from './platform-access';
import { brokerPorts, probeTcp } from './port-probe';
import { PlatformRecords } from './platform-records';
import type { Platform, PlatformHealth } from './platform.entity';

/**
 * Platforms checked at once: a round of 100 stays well inside the minute (`npm run
 * bench:health`), while one slow host does not hold up the others and a big fleet does not open
 * hundreds of SSH connections at a time.
 */
export const HEALTH_CHECK_CONCURRENCY = 8;
const PROBE_TIMEOUT_MS = 5000;
/** More readings than this waiting in the queue means the processor is falling behind. */
const BACKLOG_LIMIT = 10_000;
/** From this use of the data volume on, the platform is degraded (the processor pauses at 95 %). */
export const DISK_WARNING_PERCENT = 85;
/**
 * Deployments that stop or replace services on purpose (restore stops the processor, an update
 * recreates it): while one holds a platform, a check would record that as a fault.
 */
const STOPPING_SERVICES: readonly DeploymentAction[] = [
  'restore',
  'restore-backup',
  'update-processor',
];

/**
 * Every minute (HEALTH_CHECK_INTERVAL_SECONDS): first from outside, as a device sees it (broker ports, Grafana's health
 * endpoint); then, while the user has a live session whose key opens the SSH key, from the
 * host (containers, processor status, queue depth, last reading). Signed out, only the
 * outside view is possible (DESIGN §4: no key is kept for background work). Skipped while a
 * deployment that stops services holds the platform; once any deployment of a running platform
 * ends, the platform is checked at once, so its health is right without waiting for the minute.
 */
@Injectable()
export class PlatformHealthChecks implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(PlatformHealthChecks.name);

  constructor(
    private readonly platforms: PlatformRecords,
    private readonly jobs: JobQueue,
    private readonly sessions: SessionsService,
    private readonly access: PlatformAccess,
    private readonly host: PlatformHost,
    private readonly observers: PlatformHealthObservers,
    private readonly deployments: DeploymentsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.deployments.whenFinished('health check', (deployment) => this.afterDeployment(deployment));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(
      JobName.PlatformsHealthCheck,
      this.config.healthCheckIntervalSeconds * 1000,
    );
  }

  @OnJob(JobName.PlatformsHealthCheck)
  async checkAll(): Promise<void> {
    await this.checkRound(await this.platforms.running(), HEALTH_CHECK_CONCURRENCY);
  }

  /** One round over `platforms`, `concurrency` at a time; one failing check ends no other. */
  async checkRound(platforms: Platform[], concurrency: number): Promise<void> {
    await mapWithConcurrency(platforms, concurrency, async (platform) => {
      try {
        await this.check(platform);
      } catch (error) {
        this.logger.error(`health check of platform ${platform.id} failed: ${String(error)}`);
      }
    });
  }

  /** Checks the platform a deployment just released, when it is running (still there). */
  private async afterDeployment(deployment: Deployment): Promise<void> {
    if (deployment.targetKind !== 'platform') return;
    const platform = await this.platforms.findRunning(deployment.targetId);
    if (platform) await this.check(platform);
  }

  private async check(platform: Platform): Promise<void> {
    const holder = await this.deployments.active({ kind: 'platform', id: platform.id });
    if (holder && STOPPING_SERVICES.includes(holder.action)) return;
    const outside = await checkPlatform(platform);
    const { health, processor, processorDevices } =
      outside.status === 'unreachable'
        ? { health: outside, processor: null, processorDevices: null }
        : await this.checkOnHost(platform, outside);
    await this.platforms.save(platform.id, { health });
    if (health.status !== 'healthy') {
      this.logger.warn(`platform ${platform.id} is ${health.status}: ${health.reason}`);
    }
    await this.observers.notify({
      platform,
      health,
      processor,
      processorDevices,
      observedAt: new Date(),
    });
  }

  private async checkOnHost(
    platform: Platform,
    outside: PlatformHealth,
  ): Promise<Pick<PlatformHealthObservation, 'health' | 'processor' | 'processorDevices'>> {
    const dataKey = await this.sessions.latestDataKey(platform.userId);
    if (!dataKey) return { health: outside, processor: null, processorDevices: null };
    try {
      const status = await this.host.status({
        platformId: platform.id,
        target: await this.access.open(dataKey).sshTarget(platform),
      });
      return {
        health: judgeHostStatus(status, outside),
        processor: status.processor,
        processorDevices: status.processorDevices,
      };
    } catch (error) {
      const reason = `Host check failed: ${(error as Error).message}`;
      return {
        health: { ...outside, status: 'degraded', reason },
        processor: null,
        processorDevices: null,
      };
    }
  }
}

/** Folds what the host reports into the outside view: the first problem found is the reason. */
export function judgeHostStatus(
  status: Omit<PlatformHostStatus, 'processorDevices'>,
  outside: PlatformHealth,
): PlatformHealth {
  const processor = status.processor;
  const queueDepth = typeof processor?.queueDepth === 'number' ? processor.queueDepth : null;
  const lastReadingAt =
    typeof processor?.lastReadingAt === 'string' ? processor.lastReadingAt : null;
  const facts = { ...outside, queueDepth, lastReadingAt, disk: status.disk };
  const diskPause = processor?.disk as { pausedReason?: unknown } | null | undefined;
  // A service whose health check has not passed yet ("starting") is not serving yet either.
  const broken = status.services.find(
    (service) =>
      service.state !== 'running' || (service.health !== null && service.health !== 'healthy'),
  );
  let problem: string | null = null;
  if (status.services.length === 0) problem = 'No container of the platform is on the host';
  else if (broken) problem = `Service ${broken.service} is ${broken.health ?? broken.state}`;
  else if (!processor) problem = 'The processor does not report its status';
  else if (typeof diskPause?.pausedReason === 'string') problem = diskPause.pausedReason;
  else if (processor.consuming !== true) problem = 'The processor is not consuming';
  else if (processor.databaseReady !== true) problem = 'The processor cannot reach the database';
  else if (status.disk && status.disk.usedPercent >= DISK_WARNING_PERCENT) {
    problem = `The data volume is ${status.disk.usedPercent} % full (${formatBytes(status.disk.bytesFree)} free)`;
  } else if (queueDepth !== null && queueDepth > BACKLOG_LIMIT) {
    problem = `${queueDepth} readings are waiting in the queue`;
  }
  if (!problem) return facts;
  return {
    ...facts,
    status: 'degraded',
    reason: outside.reason ? `${outside.reason}; ${problem}` : problem,
  };
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export async function checkPlatform(platform: Platform): Promise<PlatformHealth> {
  const checkedAt = new Date().toISOString();
  const host = platform.address;
  if (!host) return { status: 'unreachable', reason: 'The platform has no address', checkedAt };
  const ports = brokerPorts(platform.ports);
  const closed: string[] = [];
  for (const { name, port } of ports) {
    if (!(await probeTcp(host, port, PROBE_TIMEOUT_MS))) closed.push(`${name} ${port}`);
  }
  if (closed.length === ports.length) {
    return {
      status: 'unreachable',
      reason: `The broker does not answer (${closed.join(', ')})`,
      checkedAt,
    };
  }
  if (closed.length > 0) {
    return { status: 'degraded', reason: `Closed: ${closed.join(', ')}`, checkedAt };
  }
  // Without TLS, Grafana listens on the host's loopback only: the inside check covers it.
  if (platform.ports.grafana !== null && platform.tls && platform.caCertificatePem) {
    const grafana = await grafanaHealth(host, platform.ports.grafana, platform.caCertificatePem);
    if (grafana) return { status: 'degraded', reason: grafana, checkedAt };
  }
  return { status: 'healthy', reason: null, checkedAt };
}

/** Over HTTPS, trusting only the platform's own CA. */
function grafanaHealth(host: string, port: number, ca: string): Promise<string | null> {
  return new Promise((resolve) => {
    const options = { host, port, path: '/api/health', timeout: PROBE_TIMEOUT_MS };
    const answered = (response: IncomingMessage) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? null : `Grafana answers HTTP ${status}`);
    };
    const request = httpsGet({ ...options, ca }, answered);
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve('Grafana does not answer'));
  });
}
