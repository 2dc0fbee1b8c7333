import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createCertificateAuthority, issueServerCertificate } from '@fieldstation/platform-stack';
import { DataSource } from 'typeorm';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { freeLoopbackPort } from '../common/free-port';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { Platform } from '../platforms/platform.entity';
import type {
  CreatedChannelDto,
  NotificationChannelDto,
  NotificationDeliveryDto,
} from './dto/notification-channel.dto';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * Notification channels against the real app and worker (SQLite, Redis, BullMQ) and a real local
 * HTTP receiver: the webhook's Standard Webhooks signature is verified by the independent
 * `standardwebhooks` package, a 500 shows in the delivery log and is retried, and an alert
 * fired after sign-out still goes out signed (standing grant).
 */
describe('Notification channels', () => {
  let app: INestApplication;
  let baseUrl: string;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  /** Paths that answer 500 this many more times. */
  const failures = new Map<string, number>();

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'all' }));
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body });
        const left = failures.get(request.url ?? '') ?? 0;
        if (left > 0) {
          failures.set(request.url ?? '', left - 1);
          response.writeHead(500).end('receiver down for maintenance');
        } else response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    receiver?.close();
    await app?.close();
  });

  const verified = (secret: string, request: Received) =>
    new Webhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    }) as { type: string; data: { title: string; text: string } };

  const deliveries = async (api: ApiClient, channelId: string) =>
    (await api.get<NotificationDeliveryDto[]>(`/notification-channels/${channelId}/deliveries`))
      .body;

  it('signs a webhook per Standard Webhooks, logs a 500 with its answer and retries it', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('hooked');
    const created = await api.post<CreatedChannelDto>('/notification-channels', {
      name: 'ops',
      kind: 'webhook',
      url: `${receiverUrl}/test-hook`,
    });
    expect(created.status).toBe(201);
    const secret = created.body.signingSecret!;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = await api.get<NotificationChannelDto[]>('/notification-channels');
    expect(listed.body).toEqual([expect.objectContaining({ name: 'ops', standingGrant: true })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(6));

    failures.set('/test-hook', 1);
    const test = await api.post<{ deliveryId: string }>(
      `/notification-channels/${created.body.channel.id}/test`,
    );
    expect(test.status).toBe(202);
    const [delivery] = await waitFor(
      async () => {
        const log = await deliveries(api, created.body.channel.id);
        return log[0]?.status === 'pending' ? undefined : log;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the test delivery' },
    );
    expect(delivery).toMatchObject({ id: test.body.deliveryId, status: 'delivered' });
    expect(delivery!.attempts.map(({ ok, answer }) => ({ ok, answer }))).toEqual([
      { ok: false, answer: 'HTTP 500: receiver down for maintenance' },
      { ok: true, answer: 'HTTP 200: ok' },
    ]);
    const requests = received.filter((request) => request.path === '/test-hook');
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.headers['webhook-id']).toBe(test.body.deliveryId);
      expect(verified(secret, request)).toMatchObject({ type: 'channel.test' });
      expect(request.body).not.toContain(secret.slice(6));
    }
    // A forged signature is refused by the same independent implementation.
    const forged = { ...requests[0]!, body: requests[0]!.body.replace('test', 'tost') };
    expect(() => verified(secret, forged)).toThrow();
  });

  it('sends a fired alert to the webhook and the ntfy topic after the user signed out', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('away');
    const hook = await api.post<CreatedChannelDto>('/notification-channels', {
      name: 'hook',
      kind: 'webhook',
      url: `${receiverUrl}/alert-hook`,
    });
    const topic = await api.post<CreatedChannelDto>('/notification-channels', {
      name: 'phone',
      kind: 'ntfy',
      url: `${receiverUrl}/greenhouse-alerts`,
    });
    expect(topic.body.signingSecret).toBeNull();
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'pi',
      host: '127.0.0.1',
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    const launched = await api.post<{ platform: { id: string; name: string } }>('/platforms', {
      name: `n${Date.now().toString(36)}`,
      target: 'ssh-host',
      credentialId: credential.body.id,
    });
    expect((await api.post('/auth/logout', { refreshToken: api.refreshToken })).status).toBe(204);

    const platform = await app
      .get(DataSource)
      .getRepository(Platform)
      .findOneByOrFail({ id: launched.body.platform.id });
    const now = Date.now();
    for (const [minutesAgo, status] of [
      [2, 'healthy'],
      [1, 'unreachable'],
      [0, 'unreachable'],
    ] as const) {
      const at = new Date(now - minutesAgo * 60_000);
      await app.get(PlatformHealthObservers).notify({
        platform,
        health: { status, reason: null, checkedAt: at.toISOString() },
        processor: null,
        observedAt: at,
      });
    }
    const hookRequest = await waitFor(
      () => received.find((request) => request.path === '/alert-hook'),
      { timeoutMs: 30_000, what: 'the alert webhook' },
    );
    expect(verified(hook.body.signingSecret!, hookRequest)).toMatchObject({
      type: 'alert.fired',
      data: {
        title: `Alert: platform-unhealthy on ${platform.name}`,
        text: `${platform.name}: Platform unreachable for 1 min or more`,
      },
    });
    const push = await waitFor(
      () => received.find((request) => request.path === '/greenhouse-alerts'),
      { timeoutMs: 30_000, what: 'the ntfy push' },
    );
    expect(push.headers.title).toBe(`Alert: platform-unhealthy on ${platform.name}`);
    expect(push.body).toBe(`${platform.name}: Platform unreachable for 1 min or more`);
  });

  it('sends email over STARTTLS with the sealed password, and logs the server refusing a wrong one', async () => {
    const mails: { from: string; to: string; data: string }[] = [];
    // A server with a private CA: the channel carries that CA, and nodemailer verifies against it.
    const ca = await createCertificateAuthority('smtp-test');
    const certificate = await issueServerCertificate(ca, '127.0.0.1');
    const smtp = new SMTPServer({
      secure: false,
      key: certificate.privateKeyPem,
      cert: certificate.certificatePem,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'alerts' && auth.password === 'smtp pass 123') {
          callback(null, { user: auth.username });
        } else callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as { port: number }).port;
    try {
      const api = new ApiClient(baseUrl);
      await api.signUp('mailer');
      const channel = (password: string) =>
        api.post<CreatedChannelDto>('/notification-channels', {
          name: `mail ${password.length}`,
          kind: 'email',
          smtp: {
            host: '127.0.0.1',
            port,
            tls: false,
            caCertificatePem: ca.certificatePem,
            username: 'alerts',
            password,
            from: 'fieldstation@example.org',
            to: 'me@example.org',
          },
        });
      const good = await channel('smtp pass 123');
      expect(good.status).toBe(201);
      expect(good.body.channel).toMatchObject({ kind: 'email', url: 'mailto:me@example.org' });
      expect(JSON.stringify(good.body)).not.toContain('smtp pass 123');
      const wrong = await channel('not the password');
      await api.post(`/notification-channels/${good.body.channel.id}/test`);
      await api.post(`/notification-channels/${wrong.body.channel.id}/test`);

      const mail = await waitFor(() => mails[0], { timeoutMs: 30_000, what: 'the email' });
      expect(mail).toMatchObject({ from: 'fieldstation@example.org', to: 'me@example.org' });
      expect(mail.data).toContain('Subject: Fieldstation test');
      expect(mail.data).toContain('A test message to the channel "mail 13".');
      const [delivered] = await waitFor(async () => {
        const log = await deliveries(api, good.body.channel.id);
        return log[0]?.status === 'delivered' ? log : undefined;
      });
      expect(delivered!.attempts[0]!.answer).toMatch(/^250 /);
      const [refused] = await waitFor(async () => {
        const log = await deliveries(api, wrong.body.channel.id);
        return log[0]?.attempts.length ? log : undefined;
      });
      expect(refused!.attempts[0]).toMatchObject({
        ok: false,
        answer: '535 Invalid username or password',
      });
      expect(mails).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it('refuses to log in to an SMTP server that offers no STARTTLS: no AUTH, no mail, the reason in the log', async () => {
    const commands: string[] = [];
    let logins = 0;
    const record = (meta: { tnx?: string; command?: string }) => {
      if (meta.tnx === 'command' && meta.command) commands.push(meta.command);
    };
    const quiet = () => undefined;
    const plaintext = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: { trace: quiet, debug: record, info: quiet, warn: quiet, error: quiet, fatal: quiet },
      onAuth(_auth, _session, callback) {
        logins += 1;
        callback(null, { user: 'alerts' });
      },
    });
    await new Promise<void>((resolve) => plaintext.listen(0, '127.0.0.1', resolve));
    const port = (plaintext.server.address() as { port: number }).port;
    try {
      const api = new ApiClient(baseUrl);
      await api.signUp('cleartext');
      const channel = await api.post<CreatedChannelDto>('/notification-channels', {
        name: 'plain mail',
        kind: 'email',
        smtp: {
          host: '127.0.0.1',
          port,
          tls: false,
          username: 'alerts',
          password: 'never in clear',
          from: 'fieldstation@example.org',
          to: 'me@example.org',
        },
      });
      expect(channel.status).toBe(201);
      await api.post(`/notification-channels/${channel.body.channel.id}/test`);
      const [refused] = await waitFor(async () => {
        const log = await deliveries(api, channel.body.channel.id);
        return log[0]?.attempts.length ? log : undefined;
      });
      expect(refused!.attempts[0]).toMatchObject({ ok: false });
      expect(refused!.attempts[0]!.answer).toMatch(
        /^TLS required, nothing sent in clear: Error upgrading connection with STARTTLS: 5\d\d /,
      );
      // The client asked for STARTTLS, was refused and stopped there.
      expect(commands).toContain('STARTTLS');
      expect(commands).not.toContain('AUTH');
      expect(commands).not.toContain('MAIL');
      expect(logins).toBe(0);
      // The channel list carries that answer: the Notifications page's notice is built from it.
      const listed = await api.get<NotificationChannelDto[]>('/notification-channels');
      expect(
        listed.body.find((found) => found.id === channel.body.channel.id)?.lastAttempt,
      ).toEqual(refused!.attempts[0]);

      const badCa = await api.post<ErrorBody>('/notification-channels', {
        name: 'bad ca',
        kind: 'email',
        smtp: {
          host: '127.0.0.1',
          port,
          tls: false,
          caCertificatePem: '-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----',
          from: 'fieldstation@example.org',
          to: 'me@example.org',
        },
      });
      expect(badCa.status).toBe(400);
      expect(badCa.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      await new Promise<void>((resolve) => plaintext.close(() => resolve()));
    }
  });

  it("answers 400 for a URL that is not http(s) or points at the server's surroundings, 404 for another user's channel", async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('owner');
    for (const url of ['ftp://example.org/x', 'not a url', 'javascript:alert(1)']) {
      const answer = await api.post<ErrorBody>('/notification-channels', {
        name: 'x',
        kind: 'webhook',
        url,
      });
      expect(answer.status, url).toBe(400);
    }
    // The server's own surroundings are refused as receivers (cloud metadata, even by name).
    for (const body of [
      { kind: 'webhook', url: 'http://169.254.169.254/latest/meta-data/' },
      { kind: 'ntfy', url: 'http://[fd00:ec2::254]/topic' },
      {
        kind: 'email',
        smtp: { host: '169.254.169.254', port: 25, tls: false, from: 'a@b.org', to: 'c@d.org' },
      },
    ]) {
      const answer = await api.post<ErrorBody>('/notification-channels', { name: 'x', ...body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('CHANNEL_ADDRESS_NOT_ALLOWED');
    }
    const mine = await api.post<CreatedChannelDto>('/notification-channels', {
      name: 'mine',
      kind: 'ntfy',
      url: `${receiverUrl}/mine`,
    });
    const other = new ApiClient(baseUrl);
    await other.signUp('other');
    const id = mine.body.channel.id;
    expect((await other.post(`/notification-channels/${id}/test`)).status).toBe(404);
    expect((await other.get(`/notification-channels/${id}/deliveries`)).status).toBe(404);
    expect((await other.delete(`/notification-channels/${id}`)).status).toBe(404);
    expect((await api.delete(`/notification-channels/${id}`)).status).toBe(204);
  });
});
