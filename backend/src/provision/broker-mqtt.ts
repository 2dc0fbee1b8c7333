import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { MqttClient } from 'mqtt';

/** The broker's MQTT listener as the platform host's loopback reaches it. */
export interface BrokerMqttListener {
  /** The host port it is published on. */
  port: number;
  /** A TLS listener: the platform CA that signed the broker's certificate and the name in it. */
  tls: { caCertificatePem: string; serverName: string } | null;
}

/** One retained MQTT message; an empty payload clears the topic's retained message. */
export interface RetainedMessage {
  topic: string;
  payload: Buffer;
}

const MQTT_TIMEOUT_MS = 10_000;
/** More time per message on top (an import's batch clears up to 500 topics in one connection). */
const MQTT_TIMEOUT_PER_MESSAGE_MS = 50;

/**
 * Publishes retained messages as an MQTT client (QoS 1, retain flag) over `channel`, a stream
 * already connected to the listener (an SSH direct-tcpip channel), and waits for every PUBACK.
 * RabbitMQ's MQTT plugin keeps only what an MQTT client publishes with the retain flag, which is
 * why this is not the management API's publish. The client id holds a `.`, which no device name
 * has, so it never takes over a device's session; the session is clean and leaves no queue.
 * Rejects with the broker's reason (refused login, closed connection, no answer in time).
 */
export async function publishRetained(
  channel: Duplex,
  listener: BrokerMqttListener,
  login: { username: string; password: string },
  messages: readonly RetainedMessage[],
): Promise<void> {
  const stream = listener.tls ? tlsOver(channel, listener.tls) : channel;
  const client = new MqttClient(() => stream, {
    protocolVersion: 4,
    clientId: `fieldstation.commands.${randomBytes(6).toString('hex')}`,
    username: login.username,
    password: login.password,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: MQTT_TIMEOUT_MS,
    keepalive: 30,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadlineMs = MQTT_TIMEOUT_MS + messages.length * MQTT_TIMEOUT_PER_MESSAGE_MS;
  // Whichever ends the connection first (a refused CONNACK, the broker closing it, the timeout)
  // fails the whole call; publishAsync alone would wait for ever on a closed stream.
  const ended = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${deadlineMs / 1000} s`)), deadlineMs);
    client.on('error', reject);
    client.once('close', () => reject(new Error('the broker closed the MQTT connection')));
  });
  ended.catch(() => undefined);
  try {
    await Promise.race([
      new Promise<void>((resolve) => client.once('connect', () => resolve())),
      ended,
    ]);
    await Promise.race([
      Promise.all(
        messages.map(({ topic, payload }) =>
          client.publishAsync(topic, payload, { qos: 1, retain: true }),
        ),
      ),
      ended,
    ]);
    // Every PUBACK is in: a clean DISCONNECT, over as soon as the connection is.
    await Promise.race([client.endAsync(), ended.catch(() => undefined)]);
  } finally {
    clearTimeout(timer);
    client.on('error', () => undefined);
    client.end(true);
    channel.destroy();
  }
}

/**
 * TLS over the forwarded channel: the broker's certificate must chain to the platform CA and name
 * the platform's address (the forward ends on the host's loopback, so the name is checked against
 * the address the certificate was issued for, not 127.0.0.1).
 */
function tlsOver(channel: Duplex, tls: NonNullable<BrokerMqttListener['tls']>): Duplex {
  return tlsConnect({
    socket: channel,
    ca: tls.caCertificatePem,
    // SNI takes host names only.
    ...(isIP(tls.serverName) ? {} : { servername: tls.serverName }),
    checkServerIdentity: (_host, certificate) => checkServerIdentity(tls.serverName, certificate),
  });
}
