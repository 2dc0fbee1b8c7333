import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type Server as TlsServer,
} from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '@fieldstation/platform-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetAddresses, type ResolveHost } from '../credentials/target-address';
import { DeliveryRefusedError, sendNtfy, sendWebhook, smtpFailure } from './channel-senders';

const NAME = 'hooks.fieldstation.test';
const message = {
  title: 'Alert',
  text: 'plant: Platform unreachable',
  type: 'alert.fired',
  platformId: null,
};

/**
 * DNS pinning of webhook and ntfy deliveries against real local receivers. A name under .test
 * never resolves in DNS, so the test feeds the name's answers through the resolver seam of
 * TargetAddresses (HOST_RESOLVER) — /etc/hosts is left alone — and counts how often it is asked.
 */
describe('channel senders: resolved once, checked, connected to the checked address', () => {
  const servers: (Server | TlsServer)[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  /** A receiver on 127.0.0.1 answering `status` (and `headers`); what it received. */
  async function receiver(status: number, headers: Record<string, string> = {}) {
    const received: IncomingMessage[] = [];
    const server = createServer((request, response) => {
      received.push(request);
      request.resume();
      request.on('end', () => response.writeHead(status, headers).end());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, received };
  }

  /** TargetAddresses whose resolver answers `answers` in turn (the last one from then on). */
  function targets(allowLoopback: boolean, ...answers: string[][]) {
    const asked: string[] = [];
    const resolve: ResolveHost = (name) => {
      asked.push(name);
      const answer = answers[Math.min(asked.length, answers.length) - 1]!;
      return Promise.resolve(
        answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    };
    return {
      targets: new TargetAddresses(
        { targetAddresses: { allowLoopback, allowPrivate: false } },
        resolve,
      ),
      asked,
    };
  }

  it('connects to the address it checked, once, with Host still the name', async () => {
    const hook = await receiver(204);
    // The name answers 127.0.0.1 first and a metadata address on any later question (rebinding).
    const { targets: allowed, asked } = targets(true, ['127.0.0.1'], ['169.254.169.254']);
    const answer = await sendWebhook(
      `http://${NAME}:${hook.port}/in`,
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg-1',
      message,
      new Date(),
      allowed.pinnedLookup('url'),
    );
    expect(answer).toBe('HTTP 204');
    expect(asked).toEqual([NAME]);
    expect(hook.received.map((request) => request.headers.host)).toEqual([`${NAME}:${hook.port}`]);
  });

  it('sends nothing to a name that resolves to a refused address, one address among others being enough', async () => {
    const hook = await receiver(204);
    for (const [answer, refusal] of [
      [['203.0.113.9', '127.0.0.1'], 'url resolves to a loopback address'],
      [['169.254.169.254'], 'url resolves to a link-local or cloud metadata address'],
      [['::ffff:127.0.0.1'], 'url resolves to a loopback address'],
    ] as const) {
      const { targets: refusing } = targets(false, [...answer]);
      const sent = sendNtfy(
        `http://${NAME}:${hook.port}/alerts`,
        message,
        refusing.pinnedLookup('url'),
      );
      await expect(sent).rejects.toThrow(DeliveryRefusedError);
      await expect(sent).rejects.toThrow(`Not sent: ${refusal}`);
    }
    const { targets: literal } = targets(false, []);
    await expect(
      sendNtfy(`http://127.0.0.1:${hook.port}/alerts`, message, literal.pinnedLookup('url')),
    ).rejects.toThrow('Not sent: url is a loopback address');
    expect(hook.received).toHaveLength(0);
  });

  it('does not follow a redirect: the 3xx is the answer, the place it points to gets nothing', async () => {
    const elsewhere = await receiver(200);
    const hook = await receiver(307, { location: `http://127.0.0.1:${elsewhere.port}/metadata` });
    const { targets: allowed } = targets(true, ['127.0.0.1']);
    await expect(
      sendWebhook(
        `http://${NAME}:${hook.port}/in`,
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg-2',
        message,
        new Date(),
        allowed.pinnedLookup('url'),
      ),
    ).rejects.toThrow('HTTP 307');
    expect(hook.received).toHaveLength(1);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('over HTTPS, offers the name as TLS SNI while connecting to the checked address', async () => {
    const ca = await createCertificateAuthority('pinning');
    const certificate = await issueServerCertificate(ca, NAME);
    const offered: string[] = [];
    const context = createSecureContext({
      cert: certificate.certificatePem,
      key: certificate.privateKeyPem,
    });
    const server = createTlsServer(
      {
        SNICallback: (servername, done) => {
          offered.push(servername);
          done(null, context);
        },
      },
      (socket) => socket.end(),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { targets: allowed, asked } = targets(true, ['127.0.0.1']);
    // The private CA is not trusted here, so the handshake ends at verification — after SNI.
    await expect(
      sendNtfy(`https://${NAME}:${port}/alerts`, message, allowed.pinnedLookup('url')),
    ).rejects.toThrow(
      /^No answer: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    );
    expect(asked).toEqual([NAME]);
    expect(offered).toEqual([NAME]);
  });

  /**
   * A receiver that answers 200 at once, then `first` and one more byte every 50 ms, never ending
   * the answer (an idle-socket timeout never fires on it); resolves `closed` when the sender
   * drops the connection.
   */
  async function drippingReceiver(first = '') {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write(first);
        const drip = setInterval(() => response.write('.'), 50);
        response.on('close', () => {
          clearInterval(drip);
          closed();
        });
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, connectionClosed };
  }

  it('ends a send whose answer never completes at the deadline, and drops the connection', async () => {
    const { targets: allowed } = targets(true, ['127.0.0.1']);
    const lookup = allowed.pinnedLookup('url');
    const senders = [
      (port: number) => sendNtfy(`http://${NAME}:${port}/alerts`, message, lookup, 400),
      (port: number) =>
        sendWebhook(
          `http://${NAME}:${port}/in`,
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          'msg-3',
          message,
          new Date(),
          lookup,
          400,
        ),
    ];
    for (const send of senders) {
      const dripping = await drippingReceiver();
      const sent = send(dripping.port);
      await expect(sent).rejects.toThrow(DeliveryRefusedError);
      await expect(sent).rejects.toThrow(/^No complete answer within 0\.4 s$/);
      await dripping.connectionClosed;
    }
  }, 10_000);

  it('stops reading an answer once the log has all it keeps', async () => {
    const dripping = await drippingReceiver('a'.repeat(400));
    const { targets: allowed } = targets(true, ['127.0.0.1']);
    // The default deadline (10 s) is beyond this test's time limit: only the cut-off ends it.
    const answer = await sendNtfy(
      `http://${NAME}:${dripping.port}/alerts`,
      message,
      allowed.pinnedLookup('url'),
    );
    expect(answer).toBe(`HTTP 200: ${'a'.repeat(300)}`);
    await dripping.connectionClosed;
  }, 5_000);
});

describe('smtpFailure: what the delivery log says of a failed email', () => {
  it('tells a relay refusing STARTTLS from a failed TLS handshake, and keeps other answers', () => {
    expect(smtpFailure('ETLS', 'Error upgrading connection with STARTTLS', '502 5.5.2 Error')).toBe(
      'TLS required, nothing sent in clear: Error upgrading connection with STARTTLS: 502 5.5.2 Error',
    );
    expect(smtpFailure('ETLS', 'Error initiating TLS - self-signed certificate', undefined)).toBe(
      'TLS failed, nothing sent: Error initiating TLS - self-signed certificate',
    );
    expect(smtpFailure('EAUTH', 'Invalid login', '535 5.7.8 Authentication failed')).toBe(
      '535 5.7.8 Authentication failed',
    );
    expect(smtpFailure(undefined, 'connect ECONNREFUSED', undefined)).toBe(
      'Error: connect ECONNREFUSED',
    );
  });
});
