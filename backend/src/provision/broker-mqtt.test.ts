import { randomBytes } from 'node:crypto';
import { connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueServerCertificate,
} from '@fieldstation/platform-stack';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerMqttListener, publishRetained } from './broker-mqtt';

/**
 * `publishRetained` against the shared test RabbitMQ (scripts/services/rabbitmq.sh). That node has
 * no TLS listener, so the TLS cases go through a TLS terminator here in front of its plaintext
 * MQTT port, serving a certificate issued by a platform CA for the platform's address, as a TLS
 * platform's broker does (the broker's own TLS listener is proven in platform-stack's
 * rabbitmq-boot test). What is checked is this client's side: the CA, the name, the login.
 */
describe('publishRetained (MQTT over a given stream, shared test RabbitMQ)', () => {
  const mqttPort = Number(new URL(required('FS_TEST_MQTT_URL')).port);
  const login = {
    username: required('FS_TEST_MQTT_USERNAME'),
    password: required('FS_TEST_MQTT_PASSWORD'),
  };
  const address = 'broker.fieldstation.test';
  let ca: CertificateAuthority;
  let terminator: Server;
  let terminatorPort: number;
  const topics: string[] = [];

  beforeAll(async () => {
    ca = await createCertificateAuthority('broker-mqtt-test');
    const server = await issueServerCertificate(ca, address);
    terminator = createTlsServer(
      { cert: server.certificatePem, key: server.privateKeyPem },
      (socket) => {
        const upstream = netConnect(mqttPort, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
        socket.on('close', () => upstream.destroy());
      },
    );
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    terminatorPort = (terminator.address() as AddressInfo).port;
  });

  afterAll(async () => {
    // Retained messages are global on the shared broker: clear every topic used here.
    const admin = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      ...login,
      reconnectPeriod: 0,
    });
    for (const topic of topics) await admin.publishAsync(topic, '', { qos: 1, retain: true });
    await admin.endAsync();
    await new Promise((resolve) => terminator?.close(resolve));
  });

  const newTopic = () => {
    const topic = `fieldstation-test/retained/${randomBytes(4).toString('hex')}`;
    topics.push(topic);
    return topic;
  };

  /** What a new subscription to `topic` gets first: a message published after it proves none came before. */
  async function firstOnSubscribe(topic: string): Promise<{ payload: string; retain: boolean }> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      ...login,
      reconnectPeriod: 0,
    });
    try {
      const first = new Promise<{ payload: string; retain: boolean }>((resolve) =>
        client.once('message', (_topic, payload, packet) =>
          resolve({ payload: payload.toString('utf8'), retain: packet.retain }),
        ),
      );
      await client.subscribeAsync(topic, { qos: 1 });
      await client.publishAsync(topic, 'published after subscribing', { qos: 1 });
      return await first;
    } finally {
      await client.endAsync();
    }
  }

  const plaintext = (): {
    channel: ReturnType<typeof netConnect>;
    listener: BrokerMqttListener;
  } => ({
    channel: netConnect(mqttPort, '127.0.0.1'),
    listener: { port: mqttPort, tls: null },
  });
  const overTls = (caPem: string, serverName: string) => ({
    channel: netConnect(terminatorPort, '127.0.0.1'),
    listener: { port: terminatorPort, tls: { caCertificatePem: caPem, serverName } },
  });

  it('retains over plaintext and clears with an empty payload', async () => {
    const topic = newTopic();
    const { channel, listener } = plaintext();
    await publishRetained(channel, listener, login, [{ topic, payload: Buffer.from('kept') }]);
    expect(await firstOnSubscribe(topic)).toEqual({ payload: 'kept', retain: true });

    const again = plaintext();
    await publishRetained(again.channel, again.listener, login, [
      { topic, payload: Buffer.alloc(0) },
    ]);
    expect(await firstOnSubscribe(topic)).toEqual({
      payload: 'published after subscribing',
      retain: false,
    });
  });

  it('retains over TLS when the certificate chains to the platform CA and names its address', async () => {
    const topic = newTopic();
    const { channel, listener } = overTls(ca.certificatePem, address);
    await publishRetained(channel, listener, login, [{ topic, payload: Buffer.from('over tls') }]);
    expect(await firstOnSubscribe(topic)).toEqual({ payload: 'over tls', retain: true });
  });

  it('refuses a broker certificate of another CA or for another name; nothing is retained', async () => {
    const topic = newTopic();
    const other = await createCertificateAuthority('another-platform');
    const wrongCa = overTls(other.certificatePem, address);
    await expect(
      publishRetained(wrongCa.channel, wrongCa.listener, login, [
        { topic, payload: Buffer.from('x') },
      ]),
    ).rejects.toThrow(/certificate/i);
    const wrongName = overTls(ca.certificatePem, 'other.fieldstation.test');
    await expect(
      publishRetained(wrongName.channel, wrongName.listener, login, [
        { topic, payload: Buffer.from('x') },
      ]),
    ).rejects.toThrow(/other\.fieldstation\.test/);
    expect((await firstOnSubscribe(topic)).payload).toBe('published after subscribing');
  });

  it("answers a refused login with the broker's reason, never the password", async () => {
    const topic = newTopic();
    const { channel, listener } = plaintext();
    const wrong = { username: login.username, password: `wrong-${randomBytes(6).toString('hex')}` };
    const failure = await publishRetained(channel, listener, wrong, [
      { topic, payload: Buffer.from('x') },
    ]).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/refused|not authorized|bad user/i);
    expect(failure).not.toContain(wrong.password);
    expect((await firstOnSubscribe(topic)).payload).toBe('published after subscribing');
  });
});

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: eval "$(scripts/services/rabbitmq.sh start)"`);
  return value;
}
