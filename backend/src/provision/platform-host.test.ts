import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  createStackSpec,
  type DatabaseChoice,
  generateSecret,
  generateStackSecrets,
  type StackSpec,
} from '@fieldstation/platform-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port';
import { AnsibleInputError } from './ansible-errors';
import type { ImageSupply } from '../config/app-config';
import { ProcessorScriptLoadError, ProcessorScriptRefusedError } from './platform-host';
import { HostKeyMismatchError } from './ssh-errors';
import {
  amqpPublisher,
  type DeviceLogin,
  PlatformProbe,
  publishMqtt,
  waitFor,
} from './testing/platform-probes';
import { testPlatformHost } from './testing/test-platform-host';
import { testDockerHost, testImages, testSshTarget } from './testing/test-ssh-host';

const { host, removeSnapshot } = testPlatformHost();
const target = testSshTarget();
const run = `t${Date.now().toString(36)}`;

/** Version 1 of the users' scripts: ADC counts to degrees, and a marker of the version. */
const scriptV1 = `
export default function process(reading) {
  return { ...reading, data: { ...reading.data, celsius: reading.data.raw / 100, script: 'v1' } };
}
`;
/** The PostgreSQL platform's script also uses an npm package (installed into the image). */
const scriptV1WithPackage = `
import ms from 'ms';
export default function process(reading) {
  return {
    ...reading,
    data: { ...reading.data, celsius: reading.data.raw / 100, window: ms(2000), script: 'v1' },
  };
}
`;
const scriptV2 = scriptV1.replace("'v1'", "'v2'");

interface TestPlatform {
  id: string;
  spec: StackSpec;
  probe: PlatformProbe;
  device: DeviceLogin & { mqttPort: number };
}

async function newPlatform(
  name: string,
  database: Extract<DatabaseChoice, 'postgres' | 'influxdb'>,
  scriptSource: string,
  packages: Record<string, string> = {},
): Promise<TestPlatform> {
  const images = testImages().images;
  const [amqp, mqtt] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const device = { name: 'sensor-1', password: generateSecret() };
  const spec = createStackSpec({
    address: '127.0.0.1',
    database,
    secrets: generateStackSecrets(),
    deviceUsers: [device],
    ports: { amqp, mqtt, rabbitmqManagement: null, grafana: null },
    images: {
      rabbitmq: images.rabbitmq,
      postgres: images.postgres,
      influxdb: images.influxdb,
      grafana: images.grafana,
      node: images.node,
    },
    processor: { scriptSource, packages },
  });
  const id = `${run}-${name}`;
  return {
    id,
    spec,
    probe: new PlatformProbe(testDockerHost(), host.layout(id).composeProject),
    device: { port: amqp, mqttPort: mqtt, username: device.name, password: device.password },
  };
}

describe('PlatformHost with the real playbooks, Ansible, sshd and Docker', () => {
  let images: ImageSupply;
  const launched: TestPlatform[] = [];
  let postgres: TestPlatform;
  let influx: TestPlatform;
  const scratch = mkdtempSync(join(tmpdir(), 'fs-platform-test-'));

  /** Seconds each task of a launch took, to print the slowest (where a launch spends its time). */
  const taskSeconds = new Map<string, number>();
  const launch = async (platform: TestPlatform) => {
    launched.push(platform);
    let current: { task: string; started: number } | undefined;
    return host.launch({
      platformId: platform.id,
      target,
      spec: platform.spec,
      images,
      onEvent: (entry) => {
        if (entry.kind !== 'task-start' && entry.kind !== 'stats') return;
        if (current) {
          const seconds = (Date.now() - current.started) / 1000;
          taskSeconds.set(current.task, Math.max(taskSeconds.get(current.task) ?? 0, seconds));
        }
        current =
          entry.kind === 'task-start' ? { task: entry.task, started: Date.now() } : undefined;
      },
    });
  };

  beforeAll(async () => {
    images = { source: 'offline', archives: [testImages().archive] };
    postgres = await newPlatform('pg', 'postgres', scriptV1WithPackage, { ms: '2.1.3' });
    influx = await newPlatform('influx', 'influxdb', scriptV1);
  }, 900_000);

  // Every platform goes, with its data, even when a test failed half-way.
  afterAll(async () => {
    await Promise.all(
      launched.map((platform) =>
        host
          .teardown({ platformId: platform.id, target, removeData: true })
          .catch((error: unknown) => console.error(`teardown of ${platform.id} failed:`, error)),
      ),
    );
    rmSync(scratch, { recursive: true, force: true });
    removeSnapshot();
  }, 600_000);

  it('launches a PostgreSQL and an InfluxDB platform; MQTT and AMQP readings arrive transformed', async () => {
    const started = Date.now();
    const results = await Promise.all([launch(postgres), launch(influx)]);
    const launchedAt = Date.now();
    for (const result of results) {
      expect(result.hostKey.fingerprint).toBe(target.hostKeyFingerprint);
      expect(result.totals).toMatchObject({ failures: 0, unreachable: 0 });
    }

    let firstStoredAt = 0;
    for (const [platform, database] of [
      [postgres, 'postgres'],
      [influx, 'influxdb'],
    ] as const) {
      const reading = (via: string) => ({
        measurement: 'room',
        device: 'sensor-1',
        data: { raw: 2150, via },
      });
      await publishMqtt(
        { ...platform.device, port: platform.device.mqttPort },
        'telemetry/room/sensor-1',
        reading('mqtt'),
      );
      const publisher = await amqpPublisher(platform.device);
      await publisher.publish('telemetry.room.sensor-1', reading('amqp'));
      await publisher.close();
      const rows = await waitFor(
        `2 readings in ${database}`,
        () => platform.probe.readings(database),
        (found) => found.length >= 2,
      );
      firstStoredAt ||= Date.now();
      expect(rows.map((row) => row.data.via).sort()).toEqual(['amqp', 'mqtt']);
      for (const row of rows) {
        expect(row.device).toBe('sensor-1');
        expect(row.data).toMatchObject({ raw: 2150, celsius: 21.5, script: 'v1' });
      }
      if (database === 'postgres') expect(rows[0]!.data.window).toBe('2s');
    }
    console.log(
      `launch of two platforms in parallel: ${((launchedAt - started) / 1000).toFixed(1)} s to healthy, ` +
        `${((firstStoredAt - started) / 1000).toFixed(1)} s from nothing to the first reading stored; ` +
        `slowest tasks: ${[...taskSeconds]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([task, seconds]) => `${task} ${seconds.toFixed(0)} s`)
          .join(', ')}`,
    );
  }, 900_000);

  it('reports the data volume from the host and from the processor, and sets the PostgreSQL readings retention restarting nothing', async () => {
    const status = await host.status({ platformId: postgres.id, target });
    expect(status.disk?.usedPercent).toBeGreaterThan(0);
    expect(status.disk?.usedPercent).toBeLessThan(100);
    // The processor reads the same filesystem through its empty disk-watch mount.
    const processorDisk = status.processor?.disk as { usedPercent: number; pausedReason: null };
    expect(Math.abs(processorDisk.usedPercent - status.disk!.usedPercent)).toBeLessThan(2);
    expect(processorDisk.pausedReason).toBeNull();

    const containers = () =>
      postgres.probe
        .docker(
          'ps',
          '--quiet',
          '--filter',
          `label=com.docker.compose.project=${host.layout(postgres.id).composeProject}`,
        )
        .trim()
        .split('\n')
        .sort();
    const before = containers();
    const result = await host.applyReadingsRetention({
      platformId: postgres.id,
      target,
      database: 'postgres',
      days: 30,
    });
    expect(result.totals).toMatchObject({ failures: 0, unreachable: 0 });
    const database = postgres.probe
      .docker(
        'ps',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${host.layout(postgres.id).composeProject}`,
        '--filter',
        'label=com.docker.compose.service=database',
      )
      .trim();
    const setting = postgres.probe.docker(
      'exec',
      database,
      'psql',
      '--username=postgres',
      '--dbname=telemetry',
      '--tuples-only',
      '--no-align',
      '--command',
      "SELECT days, has_function_privilege('fieldstation_processor', 'fieldstation_prune_readings(integer)', 'EXECUTE') FROM fieldstation_readings_retention",
    );
    expect(setting.trim()).toBe('30|t');
    expect(containers()).toEqual(before);
  }, 300_000);

  it('reads the newest readings over SSH with the fixed query of each database', async () => {
    for (const [platform, database] of [
      [postgres, 'postgres'],
      [influx, 'influxdb'],
    ] as const) {
      const request = { platformId: platform.id, target, database };
      const rows = await host.readings({ ...request, limit: 20 });
      expect(rows.map((row) => row.data.via).sort()).toEqual(['amqp', 'mqtt']);
      for (const row of rows) {
        expect(row).toMatchObject({ measurement: 'room', device: 'sensor-1' });
        expect(row.data).toMatchObject({ raw: 2150, celsius: 21.5, script: 'v1' });
        expect(Date.parse(row.time)).toBeGreaterThan(Date.now() - 3_600_000);
      }
      const [newest] = await host.readings({ ...request, limit: 1 });
      expect(newest).toEqual(rows[0]);
      expect(rows[0]!.time >= rows[1]!.time).toBe(true);
      await expect(host.readings({ ...request, limit: 101 })).rejects.toBeInstanceOf(
        AnsibleInputError,
      );
    }
  }, 120_000);

  it('changes nothing when launch.yml runs again with the same stack', async () => {
    const changedTasks: string[] = [];
    const again = await host.launch({
      platformId: postgres.id,
      target,
      spec: postgres.spec,
      images,
      onEvent: (entry) => {
        if (entry.kind === 'task-result' && entry.status === 'changed')
          changedTasks.push(entry.task);
      },
    });
    expect(changedTasks).toEqual([]);
    expect(again.totals).toMatchObject({ changed: 0, failures: 0 });
  }, 300_000);

  it('updates the script while devices publish, and loses no reading', async () => {
    const publisher = await amqpPublisher(postgres.device);
    let published = 0;
    let updating = true;
    const publishing = (async () => {
      // Until the update is done, then a few more that only the new script can see.
      for (let after = 0; updating || after < 20; after += updating ? 0 : 1) {
        // A device may publish only under its own name: the update's readings have their own measurement.
        await publisher.publish('telemetry.update.sensor-1', {
          measurement: 'update',
          device: 'sensor-1',
          data: { raw: 1000, seq: published },
        });
        published += 1;
        await new Promise((done) => setTimeout(done, 50));
      }
    })();
    try {
      const update = await host.updateProcessor({
        platformId: postgres.id,
        target,
        spec: {
          ...postgres.spec,
          processor: { ...postgres.spec.processor, scriptSource: scriptV2, packages: {} },
        },
      });
      expect(update.totals.changed).toBeGreaterThan(0);
    } finally {
      updating = false;
      await publishing;
      await publisher.close();
    }
    const rows = await waitFor(
      `${published} readings published during the update`,
      () => postgres.probe.readings('postgres').filter((row) => row.measurement === 'update'),
      (found) => new Set(found.map((row) => row.data.seq)).size >= published,
    );
    const seqs = new Set(rows.map((row) => row.data.seq));
    expect([...Array(published).keys()].filter((seq) => !seqs.has(seq))).toEqual([]);
    const versions = new Set(rows.map((row) => row.data.script));
    expect(versions.has('v2')).toBe(true);
    expect([...versions].every((version) => version === 'v1' || version === 'v2')).toBe(true);
    console.log(
      `processor update: ${published} readings published during it, all stored ` +
        `(${rows.filter((row) => row.data.script === 'v1').length} by v1, ` +
        `${rows.filter((row) => row.data.script === 'v2').length} by v2)`,
    );
  }, 600_000);

  it('refuses a new script that does not load, within seconds, and the running processor keeps consuming', async () => {
    const started = Date.now();
    const refused = await host
      .updateProcessor({
        platformId: postgres.id,
        target,
        spec: {
          ...postgres.spec,
          processor: {
            ...postgres.spec.processor,
            scriptSource: `throw new Error('broken on purpose');\n${scriptV1}`,
            packages: {},
          },
        },
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    const seconds = (Date.now() - started) / 1000;
    expect(refused).toBeInstanceOf(ProcessorScriptRefusedError);
    expect((refused as Error).message).toBe(
      'The script does not load: broken on purpose. The previous script keeps running; fix it and update again.',
    );
    expect(seconds).toBeLessThan(120);

    // The processor that ran before (script v2, from the previous test) still stores readings.
    const publisher = await amqpPublisher(postgres.device);
    await publisher.publish('telemetry.refused.sensor-1', {
      measurement: 'refused',
      device: 'sensor-1',
      data: { raw: 1234 },
    });
    await publisher.close();
    const [row] = await waitFor(
      'a reading after the refused update',
      () => postgres.probe.readings('postgres').filter((found) => found.measurement === 'refused'),
      (found) => found.length === 1,
    );
    expect(row!.data).toMatchObject({ raw: 1234, script: 'v2' });
    console.log(`refused processor update: ${seconds.toFixed(1)} s from request to refusal`);
  }, 600_000);

  it('refuses a new script whose npm packages do not install, and the running processor keeps consuming', async () => {
    const refused = await host
      .updateProcessor({
        platformId: postgres.id,
        target,
        spec: {
          ...postgres.spec,
          processor: {
            ...postgres.spec.processor,
            scriptSource: scriptV1,
            packages: { 'fieldstation-no-such-package-7c2e': '1.0.0' },
          },
        },
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(ProcessorScriptRefusedError);
    expect((refused as Error).message).toMatch(
      /^The script's npm packages do not install: [\s\S]+ The previous script keeps running; fix it and update again\.$/,
    );

    const publisher = await amqpPublisher(postgres.device);
    await publisher.publish('telemetry.unbuilt.sensor-1', {
      measurement: 'unbuilt',
      device: 'sensor-1',
      data: { raw: 4321 },
    });
    await publisher.close();
    const [row] = await waitFor(
      'a reading after the update whose packages did not install',
      () => postgres.probe.readings('postgres').filter((found) => found.measurement === 'unbuilt'),
      (found) => found.length === 1,
    );
    expect(row!.data).toMatchObject({ raw: 4321, script: 'v2' });

    // The host holds the running script again, not a refused one: a restart (as after a reboot)
    // still runs v2.
    const [processor] = postgres.probe
      .docker(
        'ps',
        '-q',
        '--filter',
        `label=com.docker.compose.project=${host.layout(postgres.id).composeProject}`,
        '--filter',
        'label=com.docker.compose.service=processor',
      )
      .split('\n');
    postgres.probe.docker('restart', processor!);
    const afterRestart = await amqpPublisher(postgres.device);
    await afterRestart.publish('telemetry.restarted.sensor-1', {
      measurement: 'restarted',
      device: 'sensor-1',
      data: { raw: 5678 },
    });
    await afterRestart.close();
    const [restarted] = await waitFor(
      'a reading after the processor restarted',
      () =>
        postgres.probe.readings('postgres').filter((found) => found.measurement === 'restarted'),
      (found) => found.length === 1,
    );
    expect(restarted!.data).toMatchObject({ raw: 5678, script: 'v2' });
  }, 600_000);

  it('dumps each database, downloads the dump over SSH and restores it into a fresh platform', async () => {
    const sources = [
      { from: postgres, database: 'postgres' as const },
      { from: influx, database: 'influxdb' as const },
    ];
    const fresh = await Promise.all([
      newPlatform('pg-restored', 'postgres', scriptV1),
      newPlatform('influx-restored', 'influxdb', scriptV1),
    ]);
    const [, dumps] = await Promise.all([
      Promise.all(fresh.map((platform) => launch(platform))),
      Promise.all(
        sources.map(async ({ from, database }) => {
          const { remotePath } = await host.dump({ platformId: from.id, target, database });
          const local = join(scratch, `${database}.dump`);
          await pipeline(await host.openDump(target, remotePath), createWriteStream(local));
          expect(statSync(local).size).toBeGreaterThan(0);
          return local;
        }),
      ),
    ]);
    for (const [index, { from, database }] of sources.entries()) {
      const into = fresh[index]!;
      await host.restore({
        platformId: into.id,
        target,
        spec: into.spec,
        dumpFile: dumps[index]!,
        readingsRetentionDays: null,
      });
      const original = from.probe.readings(database);
      expect(original.length).toBeGreaterThanOrEqual(2);
      expect(into.probe.readings(database)).toEqual(original);
    }
  }, 900_000);

  it('ends with a clear error for a failing task, a changed host key and an invalid platform id', async () => {
    const broken = await newPlatform('broken', 'postgres', scriptV1, {
      'fieldstation-no-such-package': '1.0.0',
    });
    // A package that does not install stops the launch before anything starts, blaming the
    // packages in the processor's words, and says how to go on.
    const failing = launch(broken);
    await expect(failing).rejects.toBeInstanceOf(ProcessorScriptLoadError);
    await expect(failing).rejects.toThrow(
      /^The script's npm packages do not install: [\s\S]*npm install[\s\S]*non-zero code[\s\S]* Fix the script on the Processing script tab and save it: the launch resumes\.$/,
    );
    await expect(
      host.teardown({
        platformId: postgres.id,
        target: {
          ...target,
          hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        },
        removeData: false,
      }),
    ).rejects.toThrow(HostKeyMismatchError);
    expect(() => host.layout('../etc')).toThrow(AnsibleInputError);
    await expect(host.openDump(target, '/etc/shadow')).rejects.toThrow(AnsibleInputError);
  }, 300_000);

  it('tears a platform down: no container of it remains, the data stays unless asked', async () => {
    const layout = host.layout(influx.id);
    await host.teardown({ platformId: influx.id, target, removeData: false });
    expect(influx.probe.containers()).toEqual([]);
    expect(existsSync(layout.stackDir)).toBe(false);
    expect(existsSync(join(layout.dataPath, 'influxdb'))).toBe(true);
    const again = await host.teardown({ platformId: influx.id, target, removeData: true });
    expect(again.totals.failures).toBe(0);
    expect(existsSync(layout.platformDir)).toBe(false);
  }, 300_000);
});
