import { request as httpRequest } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { DeviceBrokerAccess } from '@fieldstation/platform-stack';
import { type BrokerMqttListener, publishRetained, type RetainedMessage } from './broker-mqtt';
import { SshClient, type SshSession, type SshTarget } from './ssh-client';

/** Where a platform's broker management API is and who may use it. */
export interface BrokerManagementTarget {
  /** The platform's host; the API is reached through this SSH connection. */
  ssh: SshTarget;
  /** The management API's port on the host's loopback (the compose file publishes it there). */
  port: number;
  /** The broker's administrator; the password travels only in the Authorization header. */
  username: string;
  password: string;
  /** The broker's MQTT listener on the host (retained messages); null: none is published. */
  mqtt: BrokerMqttListener | null;
}

/** The management API refused or failed a call; the message names the call, never a secret. */
export class BrokerManagementError extends Error {
  override readonly name = 'BrokerManagementError';

  constructor(
    readonly call: string,
    readonly status: number | null,
    detail: string,
  ) {
    super(`broker management ${call} failed: ${detail}`);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;
const VHOST = '%2F';

/** Calls on one platform's RabbitMQ management HTTP API, over one SSH connection. */
export class BrokerApi {
  constructor(
    private readonly session: SshSession,
    private readonly target: BrokerManagementTarget,
  ) {}

  /**
   * Creates the user or replaces its password (and tags); existing connections stay open.
   * `null`: no password opens the user (an empty hash); a certificate-only device logs in by its
   * certificate's CN (EXTERNAL).
   */
  async putUser(name: string, password: string | null): Promise<void> {
    const login = password === null ? { password_hash: '' } : { password };
    await this.call('PUT', `/api/users/${encodeURIComponent(name)}`, { ...login, tags: '' });
  }

  /** The user's permission on the vhost and its topic permission on amq.topic. */
  async grant(name: string, access: DeviceBrokerAccess): Promise<void> {
    const user = encodeURIComponent(name);
    await this.call('PUT', `/api/permissions/${VHOST}/${user}`, access.permission);
    await this.call('PUT', `/api/topic-permissions/${VHOST}/${user}`, access.topicPermission);
  }

  /**
   * Many users with their permissions in one call (`POST /api/definitions`, which takes plain
   * passwords and hashes them as `PUT /api/users` does): thousands of devices without a round
   * trip each. Existing users of these names are replaced.
   */
  async putUsers(
    users: readonly { name: string; password: string; access: DeviceBrokerAccess }[],
  ): Promise<void> {
    const vhost = '/';
    await this.call('POST', '/api/definitions', {
      users: users.map(({ name, password }) => ({ name, password, tags: '' })),
      permissions: users.map(({ name, access }) => ({ user: name, vhost, ...access.permission })),
      topic_permissions: users.map(({ name, access }) => ({
        user: name,
        vhost,
        ...access.topicPermission,
      })),
    });
  }

  /**
   * Deletes many users: one listing, then 100 per call (absent ones are fine: `bulk-delete` refuses the whole call
   * for one unknown name, so only the present ones are sent); their connections close with them.
   */
  async deleteUsers(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const present = new Set(
      (JSON.parse(await this.call('GET', '/api/users?columns=name')) as { name: string }[]).map(
        ({ name }) => name,
      ),
    );
    const users = names.filter((name) => present.has(name));
    // 100 a call: on a busy 2-core host one call of 500 took longer than the 10 s request limit.
    for (let start = 0; start < users.length; start += 100) {
      await this.call('POST', '/api/users/bulk-delete', { users: users.slice(start, start + 100) });
    }
  }

  /** Deletes the user (absent is fine); later logins fail. */
  async deleteUser(name: string): Promise<void> {
    await this.call('DELETE', `/api/users/${encodeURIComponent(name)}`, undefined, [404]);
  }

  /** Closes every open connection of the user (AMQP and MQTT). */
  async closeConnectionsOf(name: string): Promise<void> {
    await this.call(
      'DELETE',
      `/api/connections/username/${encodeURIComponent(name)}`,
      undefined,
      [404],
    );
  }

  /**
   * Publishes one persistent message to an exchange (the management API's publish, as the
   * administrator); answers whether any queue took it. RabbitMQ's MQTT plugin hands it to a QoS 1
   * subscriber as QoS 1. No `x-mqtt-publish-qos` header: the API can only send it as a long,
   * which the 3.10 plugin does not expect and answers by closing the subscriber's connection.
   */
  async publish(exchange: string, routingKey: string, payload: Buffer): Promise<boolean> {
    const text = await this.call(
      'POST',
      `/api/exchanges/${VHOST}/${encodeURIComponent(exchange)}/publish`,
      {
        properties: { delivery_mode: 2 },
        routing_key: routingKey,
        payload: payload.toString('base64'),
        payload_encoding: 'base64',
      },
    );
    return (JSON.parse(text) as { routed?: unknown }).routed === true;
  }

  /**
   * Publishes retained messages over MQTT as the administrator (QoS 1, retain flag; an empty
   * payload clears the topic's), through a direct-tcpip channel of the same SSH connection to
   * the MQTT listener on the host's loopback; answers once the broker acknowledged every one.
   */
  async publishRetained(messages: readonly RetainedMessage[]): Promise<void> {
    const listener = this.target.mqtt;
    if (messages.length === 0) return;
    if (listener === null) {
      throw new BrokerManagementError('MQTT publish', null, 'no MQTT listener on the host');
    }
    const channel = await this.session.forwardToLoopback(listener.port).catch((error: Error) => {
      throw new BrokerManagementError('MQTT publish', null, `no tunnel: ${error.message}`);
    });
    const login = { username: this.target.username, password: this.target.password };
    await publishRetained(channel, listener, login, messages).catch((error: Error) => {
      throw new BrokerManagementError('MQTT publish', null, error.message);
    });
  }

  /**
   * Clears the topics' retained messages (an empty retained message each, one MQTT connection).
   * Without an MQTT listener on the host nothing can have been retained there: nothing to do.
   */
  async clearRetained(topics: readonly string[]): Promise<void> {
    if (this.target.mqtt === null) return;
    await this.publishRetained(topics.map((topic) => ({ topic, payload: Buffer.alloc(0) })));
  }

  /** How many open connections (AMQP and MQTT) each user has: one call for the whole broker. */
  async connectionsByUser(): Promise<Map<string, number>> {
    const text = await this.call('GET', '/api/connections?columns=user');
    const counts = new Map<string, number>();
    for (const { user } of JSON.parse(text) as { user?: unknown }[]) {
      if (typeof user === 'string') counts.set(user, (counts.get(user) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * One HTTP request over its own direct-tcpip channel of the SSH connection. `path` is built
   * from fixed segments and URI-encoded names; bodies are JSON.
   */
  private async call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    alsoFine: number[] = [],
  ): Promise<string> {
    const callName = `${method} ${path.replace(/\/api\/(\w[\w-]*)\/.*/, '/api/$1/…')}`;
    const channel = await this.session.forwardToLoopback(this.target.port).catch((error: Error) => {
      throw new BrokerManagementError(callName, null, `no tunnel to the API: ${error.message}`);
    });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const credentials = Buffer.from(`${this.target.username}:${this.target.password}`);
    return new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          method,
          path,
          host: '127.0.0.1',
          port: this.target.port,
          createConnection: () => channel as never,
          headers: {
            authorization: `Basic ${credentials.toString('base64')}`,
            'content-type': 'application/json',
            ...(payload ? { 'content-length': payload.length } : {}),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            channel.destroy();
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if ((status >= 200 && status < 300) || alsoFine.includes(status)) resolve(text);
            else reject(new BrokerManagementError(callName, status, brokerReason(status, text)));
          });
        },
      );
      request.on('timeout', () =>
        request.destroy(
          new BrokerManagementError(callName, null, `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`),
        ),
      );
      request.on('error', (error) => {
        channel.destroy();
        reject(
          error instanceof BrokerManagementError
            ? error
            : new BrokerManagementError(callName, null, error.message),
        );
      });
      request.end(payload);
    });
  }
}

/** RabbitMQ answers errors as `{"error": "...", "reason": "..."}`; keep only those words. */
function brokerReason(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; reason?: unknown };
    const reason = [parsed.error, parsed.reason].filter((part) => typeof part === 'string');
    if (reason.length > 0) return `HTTP ${status}: ${reason.join(': ').slice(0, 300)}`;
  } catch {
    // not JSON: the status alone
  }
  return `HTTP ${status}`;
}

/**
 * Changes a running platform's broker through its management API, bound to the host's loopback
 * and reached through the platform's SSH connection (pinned host key, key in memory): no port
 * opens here, no child process starts, and no secret is on any command line.
 */
@Injectable()
export class BrokerManagement {
  constructor(private readonly ssh: SshClient) {}

  /**
   * Opens one SSH connection for `work`'s calls and closes it afterwards. `connectTimeoutMs`
   * bounds the SSH handshake (a status read wants a short one; changes keep the default).
   */
  async use<T>(
    target: BrokerManagementTarget,
    work: (api: BrokerApi) => Promise<T>,
    connectTimeoutMs?: number,
  ): Promise<T> {
    const session = await this.ssh.connect(target.ssh, connectTimeoutMs).catch((error: Error) => {
      throw new BrokerManagementError('connect', null, `SSH to the host: ${error.message}`);
    });
    try {
      return await work(new BrokerApi(session, target));
    } finally {
      session.close();
    }
  }
}
