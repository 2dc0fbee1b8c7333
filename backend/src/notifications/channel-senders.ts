import { createHmac, randomBytes } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { SmtpSettings } from './notification-channel.entity';
import type { NotificationMessage } from './notification-delivery.entity';

const SEND_TIMEOUT_MS = 10_000;
/** How much of a receiver's answer the delivery log keeps. */
const ANSWER_CHARS = 300;

/** A new Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * Standard Webhooks 1.0: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with
 * the secret's base64 part.
 */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const digest = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${digest}`;
}

/** A receiver's answer that is not 2xx, as the delivery log shows it. */
export class DeliveryRefusedError extends Error {
  override readonly name = 'DeliveryRefusedError';
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryRefusedError(`No answer: ${cause ?? (error as Error).message}`);
  }
  const text = (await response.text()).slice(0, ANSWER_CHARS);
  const answer = `HTTP ${response.status}${text ? `: ${text}` : ''}`;
  if (!response.ok) throw new DeliveryRefusedError(answer);
  return answer;
}

/** Signed per Standard Webhooks; `messageId` is the delivery id (the same on every retry). */
export function sendWebhook(
  url: string,
  secret: string,
  messageId: string,
  message: NotificationMessage,
  now: Date,
): Promise<string> {
  const body = JSON.stringify({ type: message.type, timestamp: now.toISOString(), data: message });
  const timestamp = Math.floor(now.getTime() / 1000);
  return post(
    url,
    {
      'content-type': 'application/json',
      'webhook-id': messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': webhookSignature(secret, messageId, timestamp, body),
    },
    body,
  );
}

/** ntfy-style topic push: the text as the body, the title in a header. */
export function sendNtfy(url: string, message: NotificationMessage): Promise<string> {
  return post(
    url,
    {
      'content-type': 'text/plain; charset=utf-8',
      title: message.title.replace(/[^\x20-\x7e]/g, '?'),
    },
    message.text,
  );
}

/**
 * Over SMTP with the channel's server; the answer is the server's final reply. Without TLS from
 * the first byte, STARTTLS is required: a server that does not offer it (or a certificate that
 * does not verify) fails before AUTH or any mail is sent, so a login never travels in clear.
 */
export async function sendEmail(
  smtp: SmtpSettings,
  password: string | null,
  message: NotificationMessage,
): Promise<string> {
  const transport = createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls,
    requireTLS: !smtp.tls,
    tls: { minVersion: 'TLSv1.2', ca: smtp.caCertificatePem ?? undefined },
    auth: smtp.username ? { user: smtp.username, pass: password ?? '' } : undefined,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    const info = await transport.sendMail({
      from: smtp.from,
      to: smtp.to,
      subject: message.title,
      text: message.text,
    });
    return String(info.response).slice(0, ANSWER_CHARS);
  } catch (error) {
    const {
      response,
      code,
      message: text,
    } = error as { response?: string; code?: string; message: string };
    const answer = response ?? `${code ?? 'Error'}: ${text}`;
    throw new DeliveryRefusedError(
      (code === 'ETLS'
        ? `TLS required, nothing sent in clear: ${text}${response ? `: ${response}` : ''}`
        : answer
      ).slice(0, ANSWER_CHARS),
    );
  } finally {
    transport.close();
  }
}
