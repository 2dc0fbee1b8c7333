import { MYT_FANOUT_EXCHANGE, TELEMETRY_EXCHANGE } from './topology';

/**
 * The message contract of DESIGN §8. Devices publish JSON
 * `{"measurement": "room", "device": "pi1", "ts": <ISO-8601 | epoch ms>, "data": {...}}`
 * to MQTT topic `telemetry/<measurement>/<device>` or AMQP `amq.topic` with routing key
 * `telemetry.<measurement>.<device>`. MyT devices publish `{"measurement", "sensor", "data"}`
 * to the fanout exchange `data`, so `sensor` is accepted as the device name.
 *
 * Which device a reading is stored under: on `amq.topic` the broker lets a device publish only
 * `telemetry.<measurement>.<its own name>` (topic permissions), so that routing key names the
 * authenticated device and is what is stored. The body's `device` (or `sensor`) may repeat it;
 * when it names another device the message is dead-lettered (stage `parse`, reason
 * `"device" in the body ("B") is not the device that published it ("A")`) rather than stored
 * under either name: nothing is written as another device, readings of several sensors are not
 * silently merged into one series, and the message is kept for whoever fixes the sender.
 *
 * MyT's fanout `data` (allowed only to devices created with `legacyFanout`) cannot be restricted
 * by routing key: there the device is the AMQP `user_id` property, which RabbitMQ refuses unless
 * it equals the publisher's login. A fanout message without `user_id` is dead-lettered, and so is
 * one whose body's `device`/`sensor` names another device. So a MyT device must set `user_id` to
 * its own login (amqplib: `publish('data', '', body, { userId: '<name>' })`).
 *
 * Messages on `amq.topic` with a key of another shape (only the platform's own users may publish
 * those) carry no authenticated name: their body names the device.
 */
export interface Reading {
  measurement: string;
  device: string;
  /** Epoch milliseconds: the device's timestamp when it sent one, else the time of arrival. */
  time: number;
  data: Record<string, unknown>;
}

/** Where a message came from: amqplib's `message.fields`, and `properties.userId`. */
export interface MessageSource {
  exchange: string;
  routingKey: string;
  /** The AMQP `user_id` property: when present, the broker checked it is the publisher's login. */
  userId?: string;
}

/** Headers the dead-letter queue keeps a message's origin in (DeadLetterPublisher). */
export const ORIGIN_HEADERS = {
  exchange: 'x-original-exchange',
  routingKey: 'x-original-routing-key',
  userId: 'x-original-user-id',
} as const;

/**
 * Where a delivered message came from. A message on the default exchange (`""`) was put into the
 * queue by the platform itself, never by a device (devices may not write to `amq.default`): a
 * dead letter replayed by the processor. Its origin is then the one the dead-letter queue
 * recorded, so a replayed reading is attributed exactly as when it first arrived.
 */
export function messageSource(message: {
  fields: { exchange: string; routingKey: string };
  properties: { userId?: unknown; headers?: Record<string, unknown> | null };
}): MessageSource {
  const headers = message.properties.headers ?? {};
  const recorded = headers[ORIGIN_HEADERS.exchange];
  if (message.fields.exchange === '' && typeof recorded === 'string') {
    const routingKey = headers[ORIGIN_HEADERS.routingKey];
    const userId = headers[ORIGIN_HEADERS.userId];
    return {
      exchange: recorded,
      routingKey: typeof routingKey === 'string' ? routingKey : '',
      userId: typeof userId === 'string' ? userId : undefined,
    };
  }
  const userId = message.properties.userId;
  return {
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    userId: typeof userId === 'string' ? userId : undefined,
  };
}

export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

const ROUTING_KEY_PREFIX = 'telemetry.';
const MAX_NAME_LENGTH = 200;

export function parseTelemetryMessage(
  content: Buffer,
  source: MessageSource,
  receivedAt: number,
): Reading {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    throw new InvalidMessageError('message is not valid JSON');
  }
  if (!isPlainObject(body)) throw new InvalidMessageError('message is not a JSON object');

  const fromKey =
    source.exchange === TELEMETRY_EXCHANGE ? namesFromRoutingKey(source.routingKey) : undefined;
  const measurement = nameField(body.measurement, 'measurement') ?? fromKey?.measurement;
  const deviceField = body.device === undefined || body.device === null ? 'sensor' : 'device';
  const claimed = nameField(body[deviceField], deviceField);
  const authenticated = authenticatedDevice(source, fromKey);
  if (authenticated && claimed !== undefined && claimed !== authenticated.device) {
    throw new InvalidMessageError(
      `"${deviceField}" in the body (${JSON.stringify(claimed)}) is not the device that published it (${JSON.stringify(authenticated.device)}, from the ${authenticated.from})`,
    );
  }
  const device = authenticated?.device ?? claimed;
  if (!measurement) throw new InvalidMessageError('message has no measurement');
  if (!device) throw new InvalidMessageError('message has no device');
  if (!isPlainObject(body.data)) throw new InvalidMessageError('message has no "data" object');

  return { measurement, device, time: parseTimestamp(body.ts, receivedAt), data: body.data };
}

/** Validates a reading returned by the user's script before it reaches a database. */
export function validateReading(value: unknown): Reading {
  if (!isPlainObject(value))
    throw new InvalidMessageError('the script returned something that is not a reading object');
  const measurement = nameField(value.measurement, 'measurement');
  const device = nameField(value.device, 'device');
  if (!measurement || !device)
    throw new InvalidMessageError('the script returned a reading without measurement or device');
  if (!isPlainObject(value.data))
    throw new InvalidMessageError('the script returned a reading without a "data" object');
  const time =
    value.time instanceof Date
      ? value.time.getTime()
      : parseTimestamp(value.time ?? value.ts, Number.NaN);
  if (!Number.isFinite(time))
    throw new InvalidMessageError('the script returned a reading without a valid time');
  return { measurement, device, time, data: value.data };
}

export function parseTimestamp(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  let time: number;
  if (typeof value === 'number') time = value;
  else if (typeof value === 'string') time = Date.parse(value);
  else throw new InvalidMessageError('"ts" must be an ISO-8601 string or epoch milliseconds');
  // Years 1970..9999: outside that the databases disagree on what the value means.
  if (!Number.isFinite(time) || time < 0 || time > 253402300799999) {
    throw new InvalidMessageError('"ts" is not a valid timestamp');
  }
  return Math.trunc(time);
}

/** The device the broker vouches for: the routing key on `amq.topic`, `user_id` on the fanout. */
function authenticatedDevice(
  source: MessageSource,
  fromKey: { device: string } | undefined,
): { device: string; from: string } | undefined {
  if (fromKey) return { device: fromKey.device, from: 'routing key' };
  if (source.exchange !== MYT_FANOUT_EXCHANGE) return undefined;
  if (!source.userId) {
    throw new InvalidMessageError(
      `a message on the fanout exchange "${MYT_FANOUT_EXCHANGE}" must carry the AMQP user_id ` +
        "property (the publisher's login, checked by the broker): the device is taken from it",
    );
  }
  return { device: source.userId, from: 'user_id property' };
}

function namesFromRoutingKey(
  routingKey: string,
): { measurement: string; device: string } | undefined {
  if (!routingKey.startsWith(ROUTING_KEY_PREFIX)) return undefined;
  const parts = routingKey.slice(ROUTING_KEY_PREFIX.length).split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { measurement: parts[0], device: parts[1] };
}

function nameField(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw new InvalidMessageError(
      `"${field}" must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
