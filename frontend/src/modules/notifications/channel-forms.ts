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
