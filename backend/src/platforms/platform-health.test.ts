import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../common/free-port';
import { checkPlatform } from './platform-health';
import type { Platform, PlatformPorts } from './platform.entity';

const listening: Server[] = [];
async function openPort(): Promise<number> {
  const server = createServer((socket) => socket.end());
  listening.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const platform = (ports: Partial<PlatformPorts>, address: string | null = '127.0.0.1') =>
  ({
    address,
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
    expect(await checkPlatform(platform({ mqtt: open, grafana: closed }))).toMatchObject({
      status: 'degraded',
      reason: 'Grafana does not answer',
    });
  });

  it('is unreachable when no broker port answers, or there is no address', async () => {
    expect(await checkPlatform(platform({ mqtt: closed }))).toMatchObject({
      status: 'unreachable',
      reason: `The broker does not answer (MQTT ${closed})`,
    });
    expect((await checkPlatform(platform({ mqtt: open }, null))).status).toBe('unreachable');
  });
});
