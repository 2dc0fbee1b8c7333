import type { Schemas } from '../../api/client';

export type Channel = Schemas['NotificationChannelDto'];
export type ChannelKind = Channel['kind'];
export type Delivery = Schemas['NotificationDeliveryDto'];
export type CreateChannelBody = Schemas['CreateChannelInput'];

export const CHANNEL_KINDS: { value: ChannelKind; label: string; help: string }[] = [
  {
    value: 'webhook',
    label: 'Webhook',
    help: 'POSTs JSON signed per Standard Webhooks 1.0 (webhook-id, webhook-timestamp, webhook-signature); the signing secret is shown once after saving.',
  },
  {
    value: 'ntfy',
    label: 'ntfy',
    help: 'Pushes to an ntfy topic URL, e.g. https://ntfy.sh/my-greenhouse.',
  },
  {
    value: 'email',
    label: 'Email (SMTP)',
    help: 'Sends through your SMTP server; the password is sealed.',
  },
];

/** The channel form as the user fills it (every kind's fields; only the chosen kind's are sent). */
export interface ChannelForm {
  name: string;
  kind: ChannelKind;
  url: string;
  smtpHost: string;
  smtpPort: number | null;
  smtpTls: boolean;
  smtpUsername: string;
  smtpPassword: string;
  smtpFrom: string;
  smtpTo: string;
}

export function blankChannelForm(): ChannelForm {
  return {
    name: '',
    kind: 'webhook',
    url: '',
    smtpHost: '',
    smtpPort: 587,
    smtpTls: false,
    smtpUsername: '',
    smtpPassword: '',
    smtpFrom: '',
    smtpTo: '',
  };
}

/** The create body: the kind's own fields, text trimmed, an empty login left out. */
export function channelBody(form: ChannelForm): CreateChannelBody {
  const base = { name: form.name.trim(), kind: form.kind };
  if (form.kind !== 'email') return { ...base, url: form.url.trim() };
  const username = form.smtpUsername.trim();
  return {
    ...base,
    smtp: {
      host: form.smtpHost.trim(),
      port: form.smtpPort ?? Number.NaN,
      tls: form.smtpTls,
      ...(username ? { username, password: form.smtpPassword } : {}),
      from: form.smtpFrom.trim(),
      to: form.smtpTo.trim(),
    },
  };
}

/**
 * The form field an API error belongs to: the API names nested fields `smtp.host`, the form
 * calls them `smtpHost`.
 */
export function formField(apiField: string): string {
  const match = /^smtp\.(\w+)$/.exec(apiField);
  return match ? `smtp${match[1]![0]!.toUpperCase()}${match[1]!.slice(1)}` : apiField;
}

export function formFieldErrors(errors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(errors).map(([field, message]) => [formField(field), message]),
  );
}

/** A delivery's outcome in words, with the receiver's exact answer to the last attempt. */
export function deliveryOutcome(delivery: Delivery): string {
  const last = delivery.attempts.at(-1);
  const tries =
    delivery.attempts.length === 1 ? '1 attempt' : `${delivery.attempts.length} attempts`;
  if (!last) return delivery.status === 'pending' ? 'queued' : delivery.status;
  return `${delivery.status} after ${tries}: ${last.answer}`;
}

/** The delivery log's answers for TLS failures of an email channel (backend channel-senders.ts). */
const NO_TLS_ANSWER = 'TLS required, nothing sent in clear';
const TLS_FAILED_ANSWER = 'TLS failed, nothing sent';

/**
 * What the user should do about a channel, from its latest attempt: an email channel whose
 * server refused STARTTLS, or whose TLS handshake failed, sends nothing until that is fixed.
 * Null when there is nothing to do.
 */
export function channelNotice(channel: Pick<Channel, 'kind' | 'lastAttempt'>): string | null {
  const last = channel.lastAttempt;
  if (channel.kind !== 'email' || !last || last.ok) return null;
  if (last.answer.startsWith(NO_TLS_ANSWER)) {
    return (
      'Nothing is being sent: the mail server did not offer TLS (STARTTLS), and Fieldstation never ' +
      'sends a login or a message in clear. Enable STARTTLS on the relay, or add this channel again ' +
      'with "TLS from the first byte" on port 465.'
    );
  }
  if (last.answer.startsWith(TLS_FAILED_ANSWER)) {
    return (
      'Nothing is being sent: the TLS connection to the mail server failed (see the answer). Check ' +
      'that the port matches the TLS mode (465: TLS from the first byte, 587: STARTTLS) and that ' +
      "the server's certificate is valid for its name; a private CA can be given through the API " +
      '(caCertificatePem).'
    );
  }
  return null;
}
