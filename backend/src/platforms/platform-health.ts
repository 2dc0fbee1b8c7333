import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JobQueue } from '../jobs/job-queue.service';
import { OnJob } from '../jobs/job-handler.decorator';
import { brokerPorts, probeTcp } from './port-probe';
import type { Platform, PlatformHealth } from './platform.entity';
import { PlatformsService } from './platforms.service';

const HEALTH_JOB = 'platforms.health-check';
const EVERY_MS = 60_000;
const PROBE_TIMEOUT_MS = 5000;

/**
 * Every minute, from outside as a device would see it: every published broker port must accept
 * connections and Grafana must answer its health endpoint. Background checks have no access to
 * the user's keys (DESIGN §4), so they cannot log in over SSH; they need none of them.
 */
@Injectable()
export class PlatformHealthChecks implements OnApplicationBootstrap {
  private readonly logger = new Logger(PlatformHealthChecks.name);

  constructor(
    private readonly platforms: PlatformsService,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(HEALTH_JOB, EVERY_MS);
  }

  @OnJob(HEALTH_JOB)
  async checkAll(): Promise<void> {
    for (const platform of await this.platforms.runningPlatforms()) {
      const health = await checkPlatform(platform);
      await this.platforms.save(platform.id, { health });
      if (health.status !== 'healthy') {
        this.logger.warn(`platform ${platform.id} is ${health.status}: ${health.reason}`);
      }
    }
  }
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
  if (platform.ports.grafana !== null) {
    const grafana = await grafanaHealth(host, platform.ports.grafana);
    if (grafana) return { status: 'degraded', reason: grafana, checkedAt };
  }
  return { status: 'healthy', reason: null, checkedAt };
}

async function grafanaHealth(host: string, port: number): Promise<string | null> {
  try {
    const response = await fetch(`http://${host}:${port}/api/health`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? null : `Grafana answers HTTP ${response.status}`;
  } catch {
    return 'Grafana does not answer';
  }
}
