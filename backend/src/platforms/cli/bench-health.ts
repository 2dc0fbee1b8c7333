import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { StackPorts } from '@fieldstation/platform-stack';
import { Logger } from '@nestjs/common';
import type { SessionsService } from '../../auth/sessions.service';
import type { AppConfig } from '../../config/app-config';
import { DataKey } from '../../crypto/data-key';
import type { DeploymentsService } from '../../deployments/deployments.service';
import type { JobQueue } from '../../jobs/job-queue.service';
import { AnsibleRunner } from '../../provision/ansible-runner';
import { PlatformHost } from '../../provision/platform-host';
import { SshClient } from '../../provision/ssh-client';
import { testDockerHost, testSshTarget } from '../../provision/testing/test-ssh-host';
import { PlatformHealthObservers } from '../health-observers';
import { InMemoryPlatformRecords } from '../in-memory-platform-records';
import type { PlatformAccess } from '../platform-access';
import { HEALTH_CHECK_CONCURRENCY, PlatformHealthChecks } from '../platform-health';
import type { PlatformRecords } from '../platform-records';
import type { Platform } from '../platform.entity';

/**
 * `npm run bench:health`: one health-check round over 100 running platforms whose records point
 * at the test SSH host and broker (scripts/services), so every check does the real work: TCP
 * probes of the broker ports from outside, then an SSH connection with a pinned host key and
 * `docker ps` on the host. Sequential (one at a time, as before) against the bounded
 * concurrency the worker uses, in the same run. Target: a round < 30 s (the interval is 60 s).
 * The records are in memory and the signed-in user's key is a fresh one: the database and the
 * session are not what is measured.
 */
const PLATFORMS = 100;
const TARGET_SECONDS = 30;

function brokerPorts(): Partial<StackPorts> {
  const port = (name: string) => {
    const url = process.env[name];
    if (!url) throw new Error(`${name} is not set: run through npm run bench:health`);
    return Number(new URL(url).port);
  };
  return { amqp: port('FS_TEST_AMQP_URL'), mqtt: port('FS_TEST_MQTT_URL') };
}

async function main(): Promise<void> {
  // Every record is "degraded" (no containers behind it): its warning per check is noise here.
  Logger.overrideLogger(['error']);
  const target = testSshTarget();
  const ports = {
    amqp: null,
    amqps: null,
    mqtt: null,
    mqtts: null,
    rabbitmqManagement: null,
    grafana: null,
    ...brokerPorts(),
  };
  const records = new InMemoryPlatformRecords();
  for (let i = 0; i < PLATFORMS; i++) {
    const platform = records.create({
      id: randomUUID(),
      userId: 'bench-user',
      name: `bench-${i}`,
      activeName: `bench-${i}`,
      status: 'running',
      address: target.host,
      tls: false,
      ports,
    });
    await records.insert(platform);
  }
  const ssh = new SshClient();
  const host = new PlatformHost(
    new AnsibleRunner(ssh, { playbooksDir: resolve(__dirname, '../../../../playbooks') }),
    ssh,
    { processorPackageDir: '/nonexistent', dockerHost: testDockerHost() },
  );
  const dataKey = DataKey.generate();
  const checks = new PlatformHealthChecks(
    records as unknown as PlatformRecords,
    {} as JobQueue,
    { latestDataKey: () => Promise.resolve(dataKey) } as unknown as SessionsService,
    { open: () => ({ sshTarget: () => Promise.resolve(target) }) } as unknown as PlatformAccess,
    host,
    new PlatformHealthObservers(),
    // No deployment holds a bench platform.
    { active: () => Promise.resolve(null) } as unknown as DeploymentsService,
    // The bench runs rounds itself; nothing is scheduled.
    { healthCheckIntervalSeconds: 60 } as AppConfig,
  );

  const round = async (concurrency: number) => {
    const platforms = await records.running();
    const started = process.hrtime.bigint();
    await checks.checkRound(platforms, concurrency);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const checked = (await records.running()).filter(
      (platform: Platform) => platform.health !== null && platform.health !== undefined,
    ).length;
    if (checked !== PLATFORMS) throw new Error(`only ${checked} of ${PLATFORMS} were checked`);
    return seconds;
  };

  console.log(
    `health round over ${PLATFORMS} platforms (outside probes + SSH docker ps each; load ${loadavg()[0]!.toFixed(2)})`,
  );
  const sequential = await round(1);
  console.log(`one at a time (before)           ${sequential.toFixed(1).padStart(6)} s`);
  const bounded = await round(HEALTH_CHECK_CONCURRENCY);
  console.log(
    `${HEALTH_CHECK_CONCURRENCY} at a time (the worker's setting) ${bounded.toFixed(1).padStart(6)} s (target < ${TARGET_SECONDS} s)`,
  );
  console.log(`speed-up ${(sequential / bounded).toFixed(1)}×`);
  if (bounded >= TARGET_SECONDS) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
