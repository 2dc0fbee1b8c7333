import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import {
  createCertificateAuthority,
  issueServerCertificate,
  type StackPorts,
} from '@fieldstation/platform-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port';
import type { ContainerHealth } from '../provision/container-rows';
import { checkPlatform, judgeHostStatus } from './platform-health';
import type { Platform } from './platform.entity';

const listening: Server[] = [];
const openPort = () => listen(createServer((socket) => socket.end()));

async function listen(server: Server): Promise<number> {
  listening.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const grafanaHealthy = (_request: unknown, response: ServerResponse) =>
  response.end('{"database":"ok"}');

const platform = (
  ports: Partial<StackPorts>,
  address: string | null = '127.0.0.1',
  caCertificatePem: string | null = null,
) =>
  ({
    address,
    tls: caCertificatePem !== null,
    caCertificatePem,
    ports: {
      amqp: null,
      amqps: null,
      mqtt: null,
      mqtts: null,
      rabbitmqManagement: null,
      grafana: null,
      ...ports,
    },
  }) as Platform;

describe('platform health, probed from outside as devices see it', () => {
  let open: number;
  let closed: number;
  beforeAll(async () => {
    open = await openPort();
    closed = await freeLoopbackPort();
  });
  afterAll(() => listening.forEach((server) => server.close()));

  it('is healthy when every broker port answers', async () => {
    expect(await checkPlatform(platform({ mqtt: open, amqp: open }))).toMatchObject({
      status: 'healthy',
      reason: null,
    });
  });

  it('is degraded when some ports or Grafana do not answer, naming them', async () => {
    expect(await checkPlatform(platform({ mqtt: open, amqp: closed }))).toMatchObject({
      status: 'degraded',
      reason: `Closed: AMQP ${closed}`,
    });
    const ca = await createCertificateAuthority('health-closed');
    expect(
      await checkPlatform(
        platform({ mqtts: open, grafana: closed }, '127.0.0.1', ca.certificatePem),
      ),
    ).toMatchObject({ status: 'degraded', reason: 'Grafana does not answer' });
  });

  it('does not probe a plain-HTTP Grafana from outside: it listens on the host loopback only', async () => {
    expect(await checkPlatform(platform({ mqtt: open, grafana: closed }))).toMatchObject({
      status: 'healthy',
      reason: null,
    });
  });

  it("asks Grafana over HTTPS, trusting the platform's CA, when the platform has TLS", async () => {
    const ca = await createCertificateAuthority('health');
    const server = await issueServerCertificate(ca, '127.0.0.1');
    const https = await listen(
      createHttpsServer({ cert: server.certificatePem, key: server.privateKeyPem }, grafanaHealthy),
    );
    const plain = await listen(createHttpServer(grafanaHealthy));
    const otherCa = await createCertificateAuthority('someone-else');

    expect(
      await checkPlatform(
        platform({ mqtts: open, grafana: https }, '127.0.0.1', ca.certificatePem),
      ),
    ).toMatchObject({ status: 'healthy', reason: null });
    for (const [grafana, trusted] of [
      [plain, ca.certificatePem],
      [https, otherCa.certificatePem],
    ] as const) {
      expect(
        await checkPlatform(platform({ mqtts: open, grafana }, '127.0.0.1', trusted)),
      ).toMatchObject({ status: 'degraded', reason: 'Grafana does not answer' });
    }
  });

  it('is unreachable when no broker port answers, or there is no address', async () => {
    expect(await checkPlatform(platform({ mqtt: closed }))).toMatchObject({
      status: 'unreachable',
      reason: `The broker does not answer (MQTT ${closed})`,
    });
    expect((await checkPlatform(platform({ mqtt: open }, null))).status).toBe('unreachable');
  });
});

describe('platform health, as the host reports it', () => {
  const outside = {
    status: 'healthy' as const,
    reason: null,
    checkedAt: '2026-11-24T20:00:00.000Z',
  };
  const running = (service: string, health: ContainerHealth | null = 'healthy') => ({
    service,
    state: 'running',
    health,
  });
  const services = [running('rabbitmq'), running('database'), running('processor')];
  const disk = { usedPercent: 84.9, bytesFree: 1_510_000_000, bytesTotal: 10_000_000_000 };
  const processor = {
    consuming: true,
    databaseReady: true,
    queueDepth: 3,
    lastReadingAt: '2026-11-24T19:59:58.000Z',
  };

  it('keeps healthy and adds the queue depth and the last reading', () => {
    expect(judgeHostStatus({ services, processor, disk }, outside)).toEqual({
      ...outside,
      queueDepth: 3,
      lastReadingAt: '2026-11-24T19:59:58.000Z',
      disk,
    });
  });

  it.each([
    [
      { services, processor, disk: { ...disk, usedPercent: 85 } },
      'The data volume is 85 % full (1.5 GB free)',
    ],
    [
      {
        services,
        processor: {
          ...processor,
          consuming: false,
          disk: { pausedReason: 'The data volume is 95.2 % full (pausing at 95 %)' },
        },
        disk: { ...disk, usedPercent: 95.2 },
      },
      'The data volume is 95.2 % full (pausing at 95 %)',
    ],
    [{ services: [], processor }, 'No container of the platform is on the host'],
    [
      {
        services: [
          ...services.slice(0, 2),
          { service: 'processor', state: 'exited', health: null },
        ],
        processor: null,
      },
      'Service processor is exited',
    ],
    [{ services: [running('rabbitmq', 'unhealthy')], processor }, 'Service rabbitmq is unhealthy'],
    [
      { services: [running('rabbitmq'), running('database', 'starting')], processor },
      'Service database is starting',
    ],
    [{ services, processor: null }, 'The processor does not report its status'],
    [{ services, processor: { ...processor, consuming: false } }, 'The processor is not consuming'],
    [
      { services, processor: { ...processor, databaseReady: false } },
      'The processor cannot reach the database',
    ],
    [
      { services, processor: { ...processor, queueDepth: 25_000 } },
      '25000 readings are waiting in the queue',
    ],
  ])('is degraded, naming the cause: %#', (status, reason) => {
    expect(judgeHostStatus({ disk: null, ...status }, outside)).toMatchObject({
      status: 'degraded',
      reason,
    });
  });
});
