import { describe, expect, it } from 'vitest';
import {
  blankChannelForm,
  channelBody,
  channelNotice,
  deliveryOutcome,
  formFieldErrors,
  type Delivery,
} from './channel-forms';

describe('channelBody', () => {
  it('sends a webhook or ntfy channel as name, kind and URL only', () => {
    const form = {
      ...blankChannelForm(),
      name: ' ops ',
      url: ' https://hooks.example.org/x ',
      smtpHost: 'ignored',
    };
    expect(channelBody(form)).toEqual({
      name: 'ops',
      kind: 'webhook',
      url: 'https://hooks.example.org/x',
    });
    expect(channelBody({ ...form, kind: 'ntfy' })).toEqual({
      name: 'ops',
      kind: 'ntfy',
      url: 'https://hooks.example.org/x',
    });
  });

  it('sends an email channel with its SMTP settings, the login only when given', () => {
    const form = {
      ...blankChannelForm(),
      name: 'mail',
      kind: 'email' as const,
      url: 'ignored',
      smtpHost: 'smtp.example.org',
      smtpPort: 465,
      smtpTls: true,
      smtpFrom: 'fs@example.org',
      smtpTo: 'me@example.org',
    };
    expect(channelBody(form)).toEqual({
      name: 'mail',
      kind: 'email',
      smtp: {
        host: 'smtp.example.org',
        port: 465,
        tls: true,
        from: 'fs@example.org',
        to: 'me@example.org',
      },
    });
    expect(channelBody({ ...form, smtpUsername: 'me', smtpPassword: 'pw' }).smtp).toMatchObject({
      username: 'me',
      password: 'pw',
    });
  });
});

describe('formFieldErrors', () => {
  it("puts the API's nested smtp fields on the form's fields", () => {
    expect(formFieldErrors({ 'smtp.host': 'bad', url: 'no', 'smtp.from': 'not an email' })).toEqual(
      {
        smtpHost: 'bad',
        url: 'no',
        smtpFrom: 'not an email',
      },
    );
  });
});

describe('deliveryOutcome', () => {
  const delivery = (fields: Partial<Delivery>): Delivery => ({
    id: 'd',
    status: 'pending',
    title: 'Test',
    type: 'test',
    attempts: [],
    createdAt: '2026-12-02T08:00:00Z',
    ...fields,
  });

  it("quotes the receiver's exact answer to the last attempt", () => {
    expect(
      deliveryOutcome(
        delivery({
          status: 'delivered',
          attempts: [
            { at: '2026-12-02T08:00:00Z', ok: false, answer: 'HTTP 500: boom' },
            { at: '2026-12-02T08:00:05Z', ok: true, answer: 'HTTP 204' },
          ],
        }),
      ),
    ).toBe('delivered after 2 attempts: HTTP 204');
    expect(deliveryOutcome(delivery({}))).toBe('queued');
  });
});

describe('channelNotice', () => {
  const attempt = (ok: boolean, answer: string) => ({ at: '2026-12-02T16:00:00Z', ok, answer });
  const noTls =
    'TLS required, nothing sent in clear: Error upgrading connection with STARTTLS: 502 5.5.2 Error: command not recognized';

  it('tells what to do when an email server offered no STARTTLS', () => {
    expect(channelNotice({ kind: 'email', lastAttempt: attempt(false, noTls) })).toMatch(
      /Enable STARTTLS on the relay, or add this channel again with "TLS from the first byte" on port 465/,
    );
  });

  it('tells a failed TLS handshake apart from a relay without STARTTLS', () => {
    const failed =
      'TLS failed, nothing sent: Error initiating TLS - self-signed certificate in certificate chain';
    const notice = channelNotice({ kind: 'email', lastAttempt: attempt(false, failed) });
    expect(notice).toMatch(/the TLS connection to the mail server failed/);
    expect(notice).not.toMatch(/Enable STARTTLS/);
  });

  it('says nothing for other failures, successes, other kinds or no attempt yet', () => {
    expect(
      channelNotice({
        kind: 'email',
        lastAttempt: attempt(false, '535 5.7.8 Authentication failed'),
      }),
    ).toBeNull();
    expect(channelNotice({ kind: 'email', lastAttempt: attempt(true, '250 OK') })).toBeNull();
    expect(channelNotice({ kind: 'webhook', lastAttempt: attempt(false, noTls) })).toBeNull();
    expect(channelNotice({ kind: 'email', lastAttempt: null })).toBeNull();
  });
});
