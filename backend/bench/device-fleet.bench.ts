import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../src/common/free-port';
import { mapWithConcurrency } from '../src/common/map-with-concurrency';
import { waitFor } from '../src/provision/testing/platform-probes';
import {
  destroyLaunched,
  launchOnTestHost,
  type LaunchedPlatform,
} from '../test/launched-platform';
import { percentile } from './percentile';

/**
 * `npm run bench:devices [-- --quick]` (issue 14): a platform launched on the local SSH host, N
 * devices created through the API (default 1,000; --quick 200), all of them connected at once over
 * MQTT with their own credentials, publishing QoS 1 at a steady total rate; the readings the
 * database stored are counted. Targets on a 2-core machine: all N connected, lost 0, add p95
 * < 5,000 ms, fleet status for 1,000 devices < 1,000 ms.
 */
const quick = process.env.BENCH_QUICK === '1';
const DEVICES = Number(process.env.BENCH_DEVICES ?? (quick ? 200 : 1_000));
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 10 : 30));
/** Device creations in flight at once, as a provisioning script would send them. */
const CREATE_CONCURRENCY = 4;

type Created = { device: { name: string }; password: string };

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

describe('bench: a fleet of devices on one platform', () => {
  let launched: LaunchedPlatform | undefined;
  let mqttPort: number;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    mqttPort = await freeLoopbackPort();
    launched = await launchOnTestHost('fleet-bench', {
      name: 'fleet-bench',
      database: 'postgres',
      deviceUsers: [],
      tls: false,
      ports: {
        amqp: await freeLoopbackPort(),
        mqtt: mqttPort,
        rabbitmqManagement: await freeLoopbackPort(),
        grafana: null,
      },
    });
  }, 960_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await destroyLaunched(launched);
  }, 360_000);

  /** The broker container's memory as Docker accounts it, in bytes. */
  function brokerMemory(): number {
    const { probe } = launched!;
    const usage = probe.docker(
      'stats',
      '--no-stream',
      '--format',
      '{{.MemUsage}}',
      probe.container('rabbitmq'),
    );
    const [, amount, unit] = /^([\d.]+)\s*([KMG]i?B|B)/.exec(usage.trim()) ?? [];
    if (!amount) throw new Error(`unreadable docker stats: ${usage}`);
    const scale = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[unit as 'B'] ?? 1;
    return Number(amount) * scale;
  }

  /** Readings of measurement `bench` the platform's PostgreSQL stored. */
  const storedCount = () =>
    Number(launched!.probe.sql("SELECT count(*) FROM readings WHERE measurement = 'bench'").trim());

  it(`creates, connects and streams ${DEVICES} devices`, async () => {
    const { api, devices } = launched!;

    const logins: { name: string; password: string }[] = [];
    const addMs: number[] = [];
    const names = Array.from({ length: DEVICES }, (_, i) => `dev-${String(i).padStart(5, '0')}`);
    const addStarted = Date.now();
    await mapWithConcurrency(names, CREATE_CONCURRENCY, async (name) => {
      const sent = Date.now();
      const created = await api.post<Created>(devices, { name });
      addMs.push(Date.now() - sent);
      expect(created.status).toBe(201);
      logins.push({ name, password: created.body.password });
    });
    const addSeconds = (Date.now() - addStarted) / 1000;

    const memoryBefore = brokerMemory();
    const connectMs: number[] = [];
    const connectStarted = Date.now();
    const outcomes = await Promise.allSettled(
      logins.map(async ({ name, password }) => {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: name,
          password,
          clientId: name,
          reconnectPeriod: 0,
          connectTimeout: 60_000,
        });
        connectMs.push(Date.now() - connectStarted);
        clients.push(client);
        return { name, client };
      }),
    );
    const connected = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.find((o) => o.status === 'rejected');
    const memoryPerConnection = (brokerMemory() - memoryBefore) / Math.max(1, connected.length);

    // Steady total rate: every tick, the next devices in turn publish one reading each.
    const total = RATE * SECONDS;
    let acked = 0;
    let failed = 0;
    const publishStarted = Date.now();
    const inFlight: Promise<unknown>[] = [];
    for (let seq = 0; seq < total; seq++) {
      const due = publishStarted + (seq * 1000) / RATE;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const { name, client } = connected[seq % connected.length]!;
      const message = { measurement: 'bench', device: name, data: { seq } };
      inFlight.push(
        client.publishAsync(`telemetry/bench/${name}`, JSON.stringify(message), { qos: 1 }).then(
          () => acked++,
          () => failed++,
        ),
      );
    }
    await Promise.all(inFlight);
    const publishSeconds = (Date.now() - publishStarted) / 1000;

    let lastCount = -1;
    let lastChange = Date.now();
    const stored = await waitFor(
      'every acknowledged reading stored (or no progress for 30 s)',
      () => {
        const count = storedCount();
        if (count !== lastCount) [lastCount, lastChange] = [count, Date.now()];
        return count;
      },
      (count) => count >= acked || Date.now() - lastChange > 30_000,
      600_000,
    );
    const storedSeconds = (lastChange - publishStarted) / 1000;
    const storedPerSecond = Math.round(stored / storedSeconds);
    const lost = acked - Math.min(stored, acked);

    const statusMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = Date.now();
      const fleet = await api.get<unknown[]>(devices);
      statusMs.push(Date.now() - sent);
      expect(fleet.body).toHaveLength(DEVICES);
    }
    const status = percentile(statusMs, 50);
    const addP95 = percentile(addMs, 95);

    console.log(
      [
        `bench:devices — ${DEVICES} devices on a platform launched on the local SSH host (PostgreSQL)`,
        `add: ${DEVICES} in ${addSeconds.toFixed(1)} s (${CREATE_CONCURRENCY} at once), per device p50 ${percentile(addMs, 50)} ms p95 ${addP95} ms`,
        `connect (all at once over MQTT): ${connected.length}/${DEVICES}, p50 ${percentile(connectMs, 50)} ms p99 ${percentile(connectMs, 99)} ms` +
          (refused?.status === 'rejected' ? `; first refusal: ${String(refused.reason)}` : ''),
        `broker memory per connection: ${(memoryPerConnection / 1024).toFixed(1)} KiB (container ${mib(memoryBefore)} → ${mib(memoryBefore + memoryPerConnection * connected.length)} MiB)`,
        `publish QoS 1: ${acked} acknowledged, ${failed} failed, offered ${RATE}/s for ${publishSeconds.toFixed(1)} s`,
        `stored: ${stored} in ${storedSeconds.toFixed(1)} s from the first publish`,
        `fleet status (GET …/devices, ${DEVICES} devices): p50 ${status} ms, max ${Math.max(...statusMs)} ms`,
        `devices: ${connected.length} connected, ${storedPerSecond} readings/s stored, lost ${lost}, add p95 ${addP95} ms, status ${status} ms`,
      ].join('\n'),
    );
    expect(connected).toHaveLength(DEVICES);
    expect(lost).toBe(0);
    expect(addP95).toBeLessThan(5_000);
    expect(status).toBeLessThan(1_000);
  });
});
