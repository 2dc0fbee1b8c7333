import { ADMIN_USER, DEVICE_NAME, PROCESSOR_USER, type StackSpec } from '../spec/stack-spec';
import { createHmac } from 'node:crypto';
import { revocationListFileName } from './certificates';
import { hashRabbitPassword } from './password-hash';

export const TELEMETRY_QUEUE = 'telemetry';
export const DEAD_LETTER_QUEUE = 'telemetry.dead-letter';
export const MYT_FANOUT_EXCHANGE = 'data';

/** Paths inside the RabbitMQ container. */
export const RABBITMQ_CONTAINER_PATHS = {
  config: '/etc/rabbitmq/rabbitmq.conf',
  plugins: '/etc/rabbitmq/enabled_plugins',
  definitions: '/etc/rabbitmq/definitions.json',
  advancedConfig: '/etc/rabbitmq/advanced.config',
  tlsDirectory: '/etc/rabbitmq/tls',
  /** The CA's revocation list, `<issuer hash>.r0` (inside the TLS directory's mount). */
  revocationListDirectory: '/etc/rabbitmq/tls/crl',
};

const HASHING_ALGORITHM = 'rabbit_password_hashing_sha256';

interface Permission {
  configure: string;
  write: string;
  read: string;
}

/**
 * Permissions are regular expressions over resource names. The processor may use its two queues
 * and bind them; publishing to the default exchange (dead letters) needs write on `amq.default`.
 * Devices get per-device permissions from `deviceBrokerAccess`.
 */
export const PERMISSIONS: Record<'admin' | 'processor', Permission> = {
  admin: { configure: '.*', write: '.*', read: '.*' },
  processor: {
    configure: '^(telemetry|telemetry\\.dead-letter|data)$',
    write: '^(telemetry|telemetry\\.dead-letter|amq\\.default)$',
    read: '^(telemetry|telemetry\\.dead-letter|amq\\.topic|data)$',
  },
};

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

/** What one device may do on the broker: its vhost permission and its topic permission. */
export interface DeviceBrokerAccess {
  permission: Permission;
  topicPermission: TopicPermission;
}

/**
 * Least privilege for one device, enforced by RabbitMQ (proven against the real broker in
 * test/rabbitmq.test.ts).
 *
 * Vhost permission (regexes over resource names): configure only the device's own MQTT session
 * queues `mqtt-subscription-<name>qos0|1`, whose names carry the MQTT client id, so an MQTT
 * client can only subscribe when its client id is the device name; write to `amq.topic` (and
 * MyT's fanout `data` only when `legacyFanout`: a fanout exchange cannot be narrowed by key);
 * read `amq.topic` into its own queues. Nothing else: no other queue, no `amq.default`, no
 * exchange declarations.
 *
 * Topic permission on `amq.topic` (regexes over routing keys, MQTT `/` becomes `.`), with
 * `{username}` expanded by RabbitMQ: publish only `telemetry.<measurement>.<own name>`;
 * subscribe/bind only `commands.<own name>` and below. `{client_id}` is not used: RabbitMQ puts
 * it into the regex unescaped and the client chooses it, so a client id like `x|.*` would open
 * every topic; the session-queue rule above already ties the client id to the name.
 */
export function deviceBrokerAccess(
  name: string,
  options: { legacyFanout?: boolean } = {},
): DeviceBrokerAccess {
  // Guarded here too, as the backend calls this directly: a "." or other regex character in the
  // name would widen both permissions.
  if (!DEVICE_NAME.test(name)) {
    throw new Error(`device name "${name}" must be letters, digits, "-" or "_" (at most 64)`);
  }
  const sessionQueues = `mqtt-subscription-${name}qos[01]`;
  const exchanges = options.legacyFanout ? `amq\\.topic|${MYT_FANOUT_EXCHANGE}` : 'amq\\.topic';
  return {
    permission: {
      configure: `^${sessionQueues}$`,
      write: `^(${exchanges}|${sessionQueues})$`,
      read: `^(amq\\.topic|${sessionQueues})$`,
    },
    topicPermission: {
      exchange: 'amq.topic',
      write: '^telemetry\\.[^.]+\\.{username}$',
      read: '^commands\\.{username}(\\..+)?$',
    },
  };
}

/**
 * A salt that is fixed for one platform, user and password, so rendering the same spec twice
 * gives the same definitions file and re-applying a platform changes nothing on the host. Keyed
 * with a platform secret, so equal passwords on different platforms still hash differently.
 */
function stableSalt(spec: StackSpec, name: string, password: string): Buffer {
  return createHmac('sha256', spec.secrets.brokerAdminPassword)
    .update(`${name}\0${password}`)
    .digest()
    .subarray(0, 4);
}

/** RabbitMQ's definitions format: users (hashed), permissions, the telemetry topology. */
export function renderRabbitmqDefinitions(spec: StackSpec, vhost = '/'): Record<string, unknown> {
  const users = [
    {
      name: ADMIN_USER,
      password: spec.secrets.brokerAdminPassword,
      tags: ['administrator'],
      permission: PERMISSIONS.admin,
    },
    {
      name: PROCESSOR_USER,
      password: spec.secrets.processorBrokerPassword,
      tags: [],
      permission: PERMISSIONS.processor,
    },
    ...spec.deviceUsers.map((user) => ({
      name: user.name,
      password: user.password,
      tags: [],
      permission: deviceBrokerAccess(user.name, { legacyFanout: user.legacyFanout }).permission,
    })),
  ];
  return {
    users: users.map((user) => ({
      name: user.name,
      // An empty hash: no password opens this user (a certificate-only device, EXTERNAL login).
      password_hash:
        user.password === null
          ? ''
          : hashRabbitPassword(user.password, stableSalt(spec, user.name, user.password)),
      hashing_algorithm: HASHING_ALGORITHM,
      tags: user.tags,
      limits: {},
    })),
    vhosts: [{ name: vhost }],
    permissions: users.map((user) => ({ user: user.name, vhost, ...user.permission })),
    topic_permissions: spec.deviceUsers.map((user) => ({
      user: user.name,
      vhost,
      ...deviceBrokerAccess(user.name).topicPermission,
    })),
    exchanges: [
      {
        name: MYT_FANOUT_EXCHANGE,
        vhost,
        type: 'fanout',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: [TELEMETRY_QUEUE, DEAD_LETTER_QUEUE].map((name) => ({
      name,
      vhost,
      durable: true,
      auto_delete: false,
      arguments: {},
    })),
    bindings: [
      { source: 'amq.topic', routing_key: 'telemetry.#' },
      { source: MYT_FANOUT_EXCHANGE, routing_key: '' },
    ].map((binding) => ({
      ...binding,
      vhost,
      destination: TELEMETRY_QUEUE,
      destination_type: 'queue',
      arguments: {},
    })),
  };
}

/** The broker's largest accepted message body: 1 MiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * rabbitmq.conf (sysctl format). Every value comes from the spec's validated numbers and fixed
 * paths, never from user text. Users come only from the definitions file (no guest account is
 * defined; RabbitMQ's default loopback-only restriction for `guest` stays on regardless).
 */
export function renderRabbitmqConf(spec: StackSpec): string {
  const entries: [string, string | number | boolean][] = [
    ['definitions.import_backend', 'local_filesystem'],
    ['definitions.local.path', RABBITMQ_CONTAINER_PATHS.definitions],
    // Imported on the first boot and whenever Fieldstation renders a changed file; a restart with
    // the same file keeps what was changed at runtime (devices added, rotated or revoked through
    // the management API), which a re-import would otherwise undo.
    ['definitions.skip_if_unchanged', true],
    ['definitions.hashing.algorithm', 'sha256'],
    ['listeners.tcp.default', 5672],
    ['mqtt.listeners.tcp.default', 1883],
    ['mqtt.allow_anonymous', false],
    ['mqtt.vhost', '/'],
    ['mqtt.exchange', 'amq.topic'],
    ['management.tcp.port', 15672],
    // Classic queue storage v2: measured with the ingest benchmark on Debian's 3.10, about 20 %
    // less broker CPU per persistent reading and 25 % more readings/s end to end than v1.
    ['classic_queue.default_version', 2],
    // A reading is a few hundred bytes; without a limit (3.10 default: 128 MiB) one device could
    // make the broker hold, queue and hand the processor messages of that size. Over it, RabbitMQ
    // closes the publisher's AMQP channel (PRECONDITION_FAILED) or MQTT connection; nothing is
    // queued, so the processor never sees it.
    ['max_message_size', MAX_MESSAGE_BYTES],
    // The broker blocks publishers (devices wait, nothing is half-written) while less than this is
    // free on the data volume. The processor pauses earlier (at 95 % use, DiskGuard), so readings
    // pile up here first and the databases keep room to finish what they write.
    ['disk_free_limit.absolute', '256MB'],
  ];
  if (spec.tls) {
    entries.push(
      ['listeners.ssl.default', 5671],
      ['mqtt.listeners.ssl.default', 8883],
      // ssl_options (CA, server certificate, client certificate checks): advanced.config.
      // Certificate devices: EXTERNAL (AMQP) and MQTT's certificate login take the verified
      // certificate's CN as the username (rabbitmq_auth_mechanism_ssl). An MQTT client that sends
      // a username and password is still checked by them.
      ['auth_mechanisms.1', 'PLAIN'],
      ['auth_mechanisms.2', 'AMQPLAIN'],
      ['auth_mechanisms.3', 'EXTERNAL'],
      ['ssl_cert_login_from', 'common_name'],
      ['mqtt.ssl_cert_login', true],
    );
  }
  return `${entries.map(([key, value]) => `${key} = ${String(value)}`).join('\n')}\n`;
}

/**
 * advanced.config (Erlang terms): the TLS options when TLS is on, here rather than in
 * rabbitmq.conf because the revocation list's cache (`crl_cache`) has no rabbitmq.conf key, and
 * advanced.config replaces `ssl_options` as a whole. Fixed paths only, never user text.
 *
 * A client certificate (optional: password devices need none) must be signed by the platform CA
 * and, with a revocation list in the spec, not be listed in it (`crl_check, peer`). Erlang's
 * `ssl_crl_hash_dir` reads the list from its directory at each handshake, so a list replaced on
 * the host takes effect on the next connection, without a restart (shown on a real node in
 * test/rabbitmq-boot.test.ts). Connections already open stay open: revoke closes them.
 */
export function renderRabbitmqAdvancedConfig(spec: StackSpec): string {
  if (!spec.tls) return '[].\n';
  const dir = RABBITMQ_CONTAINER_PATHS.tlsDirectory;
  const sslOptions = [
    `{cacertfile, "${dir}/ca.pem"}`,
    `{certfile, "${dir}/server.pem"}`,
    `{keyfile, "${dir}/server.key"}`,
    '{verify, verify_peer}',
    '{fail_if_no_peer_cert, false}',
    "{versions, ['tlsv1.3', 'tlsv1.2']}",
  ];
  if (spec.tls.revocationListPem !== undefined) {
    sslOptions.push(
      '{crl_check, peer}',
      `{crl_cache, {ssl_crl_hash_dir, {internal, [{dir, "${RABBITMQ_CONTAINER_PATHS.revocationListDirectory}"}]}}}`,
    );
  }
  return `[{rabbit, [{ssl_options, [\n  ${sslOptions.join(',\n  ')}\n]}]}].\n`;
}

/**
 * Where the revocation list lies in the rendered stack (below the stack directory on the host),
 * which is also where Fieldstation replaces it at runtime.
 */
export function revocationListStackPath(caCertificatePem: string): string {
  return `rabbitmq/tls/crl/${revocationListFileName(caCertificatePem)}`;
}

export function renderEnabledPlugins(spec: Pick<StackSpec, 'tls'>): string {
  return spec.tls
    ? '[rabbitmq_management,rabbitmq_mqtt,rabbitmq_auth_mechanism_ssl].\n'
    : '[rabbitmq_management,rabbitmq_mqtt].\n';
}
