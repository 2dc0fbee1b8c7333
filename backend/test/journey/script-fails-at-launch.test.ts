import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/common/free-port';
import { publishMqtt, waitFor } from '../../src/provision/testing/platform-probes';
import type { ApiClient } from '../api-client';
import {
  deploymentEnd,
  destroyLaunched,
  startLaunchOnTestHost,
  type LaunchedPlatform,
} from '../launched-platform';
import { readSse } from '../sse';

type Platform = { status: string; failedStep: string | null };
type LogLine = { message: string };

const fixedScript = `export default function process(reading) {
  return { ...reading, data: { ...reading.data, celsius: reading.data.raw / 100, script: 'fixed' } };
}
`;
/** Parses (the API accepts it) but throws while the processor loads it on the host. */
const brokenScript = `throw new Error('broken on purpose');\n${fixedScript}`;

/**
 * Follows a deployment's log until it ends: every line, and how long the end came after the first
 * line matching `from`.
 */
async function followFrom(api: ApiClient, deploymentId: string, from: RegExp) {
  const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
    headers: { authorization: `Bearer ${api.accessToken}` },
  });
  expect(response.status).toBe(200);
  const lines: string[] = [];
  let fromAt: number | undefined;
  let msAfter: number | undefined;
  await readSse(response, (event) => {
    if (event.event === 'log') {
      const { message } = event.data as LogLine;
      lines.push(message);
      if (fromAt === undefined && from.test(message)) fromAt = Date.now();
    }
    if (event.event !== 'end') return false;
    if (fromAt !== undefined) msAfter = Date.now() - fromAt;
    return true;
  });
  return { lines, msAfter };
}

/**
 * Issue 19: a script that parses but does not load on the host fails the launch in seconds at the
 * processor's check (not after the 10-minute health wait), and the failed platform takes a fixed
 * script that resumes its launch: Running, readings stored, nothing destroyed. One launch.
 */
describe('A launch whose script does not load (real SSH host, Ansible, Docker)', () => {
  let launched: LaunchedPlatform | undefined;

  afterAll(async () => {
    await destroyLaunched(launched);
  }, 360_000);

  it('fails fast with the script’s message, then a fixed script brings it to Running', async () => {
    const [amqp, mqtt] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const start = await startLaunchOnTestHost('broken-script', {
      name: 'broken-script',
      database: 'postgres',
      deviceUsers: ['sensor-1'],
      tls: false,
      ports: { amqp, mqtt, rabbitmqManagement: null, grafana: null },
      processor: { script: brokenScript },
    });
    launched = start.launched;
    const { api, platformId, probe } = launched;

    const failedRun = await followFrom(api, start.deploymentId, /Check that the script loads/);
    const failed = await deploymentEnd(api, start.deploymentId, 60_000, 'the failed launch');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^The script does not load: .*broken on purpose/);
    expect(failed.error).toContain('Fix the script');
    expect(failedRun.lines.some((line) => line.includes('broken on purpose'))).toBe(true);
    // The health wait it replaces took 600 s; the check itself takes seconds.
    console.log(`launch failed ${failedRun.msAfter} ms after the script check started`);
    expect(failedRun.msAfter).toBeLessThan(120_000);
    // Nothing was started on the host with the broken script.
    expect(failedRun.lines.some((line) => line.includes("Start the platform's services"))).toBe(
      false,
    );
    expect((await api.get<Platform>(`/platforms/${platformId}`)).body).toMatchObject({
      status: 'failed',
      failedStep: 'configuring',
    });

    // The fixed script is stored and resumes the launch: the platform comes up with it.
    const fixed = await api.post<{ deploymentId: string }>(`/platforms/${platformId}/processor`, {
      script: fixedScript,
    });
    expect(fixed.status).toBe(202);
    const relaunch = await deploymentEnd(api, fixed.body.deploymentId, 900_000, 'the relaunch');
    expect(relaunch).toMatchObject({ status: 'succeeded' });
    expect((await api.get<Platform>(`/platforms/${platformId}`)).body.status).toBe('running');
    expect((await api.get<{ script: string }>(`/platforms/${platformId}/processor`)).body).toEqual(
      expect.objectContaining({ script: fixedScript }),
    );

    const revealed = await api.post<{ password: string }>(
      `/platforms/${platformId}/devices/sensor-1/reveal-password`,
    );
    expect(revealed.status).toBe(200);
    await publishMqtt(
      { port: mqtt, username: 'sensor-1', password: revealed.body.password },
      'telemetry/room/sensor-1',
      { measurement: 'room', device: 'sensor-1', data: { raw: 2150 } },
    );
    const stored = await waitFor(
      'the reading',
      () => probe.readings('postgres'),
      (rows) => rows.length === 1,
    );
    expect(stored[0]).toMatchObject({
      device: 'sensor-1',
      data: { celsius: 21.5, script: 'fixed' },
    });
  }, 1_900_000);
});
