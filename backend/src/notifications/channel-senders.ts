import { createHmac, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createTransport } from 'nodemailer';
import { TargetRefusedError } from '../credentials/target-address';
import type { SmtpSettings } from './notification-channel.entity';
import type { NotificationMessage } from './notification-delivery.entity';

const SEND_TIMEOUT_MS = 10_000;
/**
 * The whole webhook/ntfy send (lookup, connect, request, answer) ends by then: an idle-socket
 * timeout alone lets a receiver that drips a byte now and then hold a job worker forever.
 */
export const SEND_DEADLINE_MS = 10_000;
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

/**
 * POSTs `body` over node:http(s) connecting through `lookup` (TargetAddresses.pinnedLookup:
 * the checked address, Host and TLS SNI still the name). Redirects are never followed: a 3xx is
 * the answer, so a receiver cannot send the request on to a refused address. Past `deadlineMs`
 * the send fails and its connection is destroyed, whatever stage it is in.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  lookup: LookupFunction,
  deadlineMs: number,
): Promise<string> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const stop = new AbortController();
  return new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => {
      reject(new DeliveryRefusedError(`No complete answer within ${deadlineMs / 1000} s`));
      stop.abort();
    }, deadlineMs);
    // Node connects to an IP literal without a lookup: the lookup judges it first.
    const judged =
      isIP(host) === 0
        ? Promise.resolve()
        : new Promise<void>((judge, refuse) =>
            lookup(host, {}, (error) => (error ? refuse(noAnswer(error)) : judge())),
          );
    judged
      .then(() => send(request, target, headers, body, lookup, stop.signal))
      .then(resolve, reject)
      .finally(() => clearTimeout(deadline));
  });
}

function send(
  request: typeof httpRequest,
  target: URL,
  headers: Record<string, string>,
  body: string,
  lookup: LookupFunction,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sent = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup,
        // One connection per delivery: a kept-alive socket would skip the next lookup's check.
        agent: false,
        // Aborting destroys the request, its socket and any answer being read.
        signal,
      },
      (response) => {
        let text = '';
        const answered = () => {
          const shown = text.slice(0, ANSWER_CHARS);
          const status = response.statusCode ?? 0;
          const answer = `HTTP ${status}${shown ? `: ${shown}` : ''}`;
          if (status >= 200 && status < 300) resolve(answer);
          else reject(new DeliveryRefusedError(answer));
        };
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          // The log keeps no more than this: the rest is not waited for.
          if (text.length >= ANSWER_CHARS) {
            answered();
            sent.destroy();
          }
        });
        response.on('error', (error) => reject(noAnswer(error)));
        response.on('end', answered);
      },
    );
    sent.on('error', (error) => reject(noAnswer(error)));
    sent.end(body);
  });
}

function noAnswer(error: Error): DeliveryRefusedError {
  if (error instanceof TargetRefusedError)
    return new DeliveryRefusedError(`Not sent: ${error.message}`);
  const code = (error as NodeJS.ErrnoException).code;
  return new DeliveryRefusedError(`No answer: ${code ?? error.message}`);
}

/** Signed per Standard Webhooks; `messageId` is the delivery id (the same on every retry). */
export function sendWebhook(
  url: string,
  secret: string,
  messageId: string,
  message: NotificationMessage,
  now: Date,
  lookup: LookupFunction,
  deadlineMs = SEND_DEADLINE_MS,
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
    lookup,
    deadlineMs,
  );
}

/** ntfy-style topic push: the text as the body, the title in a header. */
export function sendNtfy(
  url: string,
  message: NotificationMessage,
  lookup: LookupFunction,
  deadlineMs = SEND_DEADLINE_MS,
): Promise<string> {
  return post(
    url,
    {
      'content-type': 'text/plain; charset=utf-8',
      title: message.title.replace(/[^\x20-\x7e]/g, '?'),
    },
    message.text,
    lookup,
    deadlineMs,
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
  address: string = smtp.host,
): Promise<string> {
  const transport = createTransport({
    // The checked address, so a name cannot resolve elsewhere at connect time; TLS still
    // verifies the certificate against the name.
    host: address,
    servername: smtp.host,
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
    throw new DeliveryRefusedError(smtpFailure(code, text, response).slice(0, ANSWER_CHARS));
  } finally {
    transport.close();
  }
}

/**
 * The delivery log's answer for a failed SMTP send. Nodemailer's ETLS covers a server that
 * refuses STARTTLS (what a relay without TLS answers) and a TLS handshake that fails (an
 * untrusted certificate, a wrong port): the user's fix differs, so the answers do too.
 */
export function smtpFailure(
  code: string | undefined,
  text: string,
  response: string | undefined,
): string {
  if (code !== 'ETLS') return response ?? `${code ?? 'Error'}: ${text}`;
  const detail = `${text}${response ? `: ${response}` : ''}`;
  return text.startsWith('Error upgrading connection with STARTTLS')
    ? `TLS required, nothing sent in clear: ${detail}`
    : `TLS failed, nothing sent: ${detail}`;
}
