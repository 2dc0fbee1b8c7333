import { randomBytes } from 'node:crypto';
import amqp, { type ConfirmChannel, type GetMessage } from 'amqplib';
import { requireEnv, uniqueName } from './environment';

export interface TestVhost {
  name: string;
  amqpUrl: string;
  mqttUrl: string;
  /** RabbitMQ's MQTT plugin selects the vhost from a `vhost:user` username. */
  mqttUsername: string;
  mqttPassword: string;
  /** A login of its own with full rights on this vhost (a device, as far as the broker knows). */
  addUser(name: string): Promise<{ amqpUrl: string; delete(): Promise<void> }>;
  delete(): Promise<void>;
}

/** A private vhost per test file, so parallel files never see each other's messages. */
export async function createTestVhost(): Promise<TestVhost> {
  const amqpUrl = new URL(requireEnv('FS_TEST_AMQP_URL'));
  const apiUrl = requireEnv('FS_TEST_RABBITMQ_API_URL');
  const mqttUrl = requireEnv('FS_TEST_MQTT_URL');
  const user = decodeURIComponent(amqpUrl.username);
  const password = decodeURIComponent(amqpUrl.password);
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const name = uniqueName('fs-test');
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${apiUrl}/api${path}`, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(
        `RabbitMQ API ${method} ${path}: HTTP ${response.status} ${await response.text()}`,
      );
    }
  };
  await api('PUT', `/vhosts/${encodeURIComponent(name)}`);
  await api('PUT', `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(user)}`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  const vhostUrl = new URL(amqpUrl.href);
  vhostUrl.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    amqpUrl: vhostUrl.href,
    mqttUrl,
    mqttUsername: `${name}:${user}`,
    mqttPassword: password,
    addUser: async (login) => {
      const secret = randomBytes(12).toString('hex');
      await api('PUT', `/users/${encodeURIComponent(login)}`, { password: secret, tags: '' });
      await api('PUT', `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(login)}`, {
        configure: '.*',
        write: '.*',
        read: '.*',
      });
      const userUrl = new URL(vhostUrl.href);
      userUrl.username = encodeURIComponent(login);
      userUrl.password = secret;
      return {
        amqpUrl: userUrl.href,
        delete: () => api('DELETE', `/users/${encodeURIComponent(login)}`),
      };
    },
    delete: () => api('DELETE', `/vhosts/${encodeURIComponent(name)}`),
  };
}

export interface Publisher {
  /** `userId`: the AMQP user_id property (the broker refuses it unless it is the login). */
  publishJson(exchange: string, routingKey: string, body: unknown, userId?: string): void;
  publishRaw(exchange: string, routingKey: string, content: Buffer): void;
  /** Resolves once the broker confirmed everything published so far. */
  confirmed(): Promise<void>;
  close(): Promise<void>;
}

export async function openPublisher(amqpUrl: string): Promise<Publisher> {
  const connection = await amqp.connect(amqpUrl);
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  return {
    publishJson: (exchange, routingKey, body, userId) =>
      channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), {
        persistent: true,
        ...(userId === undefined ? {} : { userId }),
      }),
    publishRaw: (exchange, routingKey, content) =>
      channel.publish(exchange, routingKey, content, { persistent: true }),
    confirmed: () => channel.waitForConfirms(),
    close: () => connection.close(),
  };
}

/** Reads (and acknowledges) everything currently in a queue. */
export async function drainQueue(amqpUrl: string, queue: string): Promise<GetMessage[]> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) return messages;
      messages.push(message);
    }
  } finally {
    await connection.close();
  }
}

export async function queueDepth(amqpUrl: string, queue: string): Promise<number> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}
