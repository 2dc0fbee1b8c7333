import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import {
  InvalidMessageError,
  isPlainObject,
  messageSource,
  ORIGIN_HEADERS,
  parseTelemetryMessage,
  type Reading,
} from '../contract/reading';
import { TELEMETRY_EXCHANGE } from '../contract/topology';

/** One message of the dead-letter queue, as the Processing tab lists it. */
export interface DeadLetterEntry {
  /** When it was dead-lettered (ISO-8601), from the message's timestamp property. */
  time: string | null;
  stage: string | null;
  reason: string | null;
  measurement: string | null;
  device: string | null;
  /** The start of the body, cut to the preview size (UTF-8, invalid bytes replaced). */
  bodyPreview: string;
  bodyBytes: number;
  /** How often it was replayed already. */
  replays: number;
}

export const REPLAY_COUNT_HEADER = 'x-fieldstation-replays';
const STAGE_HEADER = 'x-fieldstation-stage';
const REASON_HEADER = 'x-fieldstation-reason';
const REPLAY_CONFIRM_EVERY = 100;

/**
 * Reads up to `limit` messages from the head of the dead-letter queue without removing them: they
 * are fetched unacknowledged and requeued (back to their places) when the channel closes.
 * The channel is used up: pass one opened for this call.
 */
export async function listDeadLetters(
  channel: Channel,
  queue: string,
  limit: number,
  previewBytes: number,
): Promise<{ total: number; letters: DeadLetterEntry[] }> {
  const messages = await peek(channel, queue, limit);
  return {
    total: messages.total,
    letters: messages.items.map((message) => describeDeadLetter(message, previewBytes)),
  };
}

/**
 * The readings the dead-lettered messages would give, parsed as the pipeline parses them, and why
 * the ones that do not parse fail. Nothing is removed (see {@link listDeadLetters}).
 */
export async function deadLetterReadings(
  channel: Channel,
  queue: string,
  limit: number,
): Promise<({ reading: Reading } | { error: string; bodyPreview: string })[]> {
  const { items } = await peek(channel, queue, limit);
  return items.map((message) => {
    const arrived = (message.properties.timestamp as number | undefined) ?? Date.now() / 1000;
    try {
      return {
        reading: parseTelemetryMessage(message.content, messageSource(message), arrived * 1000),
      };
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      return { error: error.message, bodyPreview: preview(message.content, 500) };
    }
  });
}

/**
 * Moves what the dead-letter queue holds now back into the telemetry queue (default exchange,
 * origin kept in headers) so the pipeline runs it again: each message is acknowledged on the
 * dead-letter queue only after the broker confirmed its copy, so a crash duplicates, never loses.
 * Messages that fail again land behind the ones counted at the start and are not moved twice.
 */
export async function replayDeadLetters(
  channel: ConfirmChannel,
  deadLetterQueue: string,
  queue: string,
): Promise<number> {
  const { messageCount } = await channel.checkQueue(deadLetterQueue);
  let moved = 0;
  let unconfirmed: GetMessage | undefined;
  const confirm = async () => {
    if (!unconfirmed) return;
    await channel.waitForConfirms();
    channel.ack(unconfirmed, true);
    unconfirmed = undefined;
  };
  while (moved < messageCount) {
    const message = await channel.get(deadLetterQueue, { noAck: false });
    if (message === false) break;
    const headers: Record<string, unknown> = { ...message.properties.headers };
    delete headers[STAGE_HEADER];
    delete headers[REASON_HEADER];
    headers[REPLAY_COUNT_HEADER] = replayCount(message) + 1;
    channel.sendToQueue(queue, message.content, {
      persistent: true,
      contentType: message.properties.contentType,
      headers,
    });
    unconfirmed = message;
    moved++;
    if (moved % REPLAY_CONFIRM_EVERY === 0) await confirm();
  }
  await confirm();
  return moved;
}

/** Deletes every message of the dead-letter queue; answers how many. */
export async function purgeDeadLetters(channel: Channel, queue: string): Promise<number> {
  const { messageCount } = await channel.purgeQueue(queue);
  return messageCount;
}

async function peek(
  channel: Channel,
  queue: string,
  limit: number,
): Promise<{ total: number; items: GetMessage[] }> {
  const { messageCount } = await channel.checkQueue(queue);
  const items: GetMessage[] = [];
  while (items.length < Math.min(limit, messageCount)) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) break;
    items.push(message);
  }
  channel.nackAll(true);
  return { total: messageCount, items };
}

function describeDeadLetter(message: GetMessage, previewBytes: number): DeadLetterEntry {
  const headers = message.properties.headers ?? {};
  const timestamp = message.properties.timestamp as number | undefined;
  const names = namesOf(message);
  return {
    time: typeof timestamp === 'number' ? new Date(timestamp * 1000).toISOString() : null,
    stage: typeof headers[STAGE_HEADER] === 'string' ? headers[STAGE_HEADER] : null,
    reason: typeof headers[REASON_HEADER] === 'string' ? headers[REASON_HEADER] : null,
    measurement: names.measurement ?? null,
    device: names.device ?? null,
    bodyPreview: preview(message.content, previewBytes),
    bodyBytes: message.content.length,
    replays: replayCount(message),
  };
}

/** From the recorded routing key when it names them, else what the body says (unverified). */
function namesOf(message: GetMessage): { measurement?: string; device?: string } {
  const headers = message.properties.headers ?? {};
  const exchange = headers[ORIGIN_HEADERS.exchange];
  const routingKey = headers[ORIGIN_HEADERS.routingKey];
  if (exchange === TELEMETRY_EXCHANGE && typeof routingKey === 'string') {
    const parts = routingKey.split('.');
    if (parts.length === 3 && parts[0] === 'telemetry') {
      return { measurement: parts[1], device: parts[2] };
    }
  }
  const userId = headers[ORIGIN_HEADERS.userId];
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch {
    body = undefined;
  }
  const field = (value: unknown) =>
    typeof value === 'string' && value.length > 0 ? value.slice(0, 200) : undefined;
  const fromBody = isPlainObject(body) ? body : {};
  return {
    measurement: field(fromBody.measurement),
    device: field(userId) ?? field(fromBody.device) ?? field(fromBody.sensor),
  };
}

function replayCount(message: GetMessage): number {
  const count = message.properties.headers?.[REPLAY_COUNT_HEADER];
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : 0;
}

function preview(content: Buffer, bytes: number): string {
  const text = content.subarray(0, bytes).toString('utf8');
  return content.length > bytes ? `${text}…` : text;
}
