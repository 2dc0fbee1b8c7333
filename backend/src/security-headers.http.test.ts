import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, refreshCookieOf } from '../test/api-client';
import { startTestApp } from '../test/http-app';
import { tempDir } from '../test/test-env';

/** A stand-in for the built web UI, so `/` is served from FRONTEND_DIR as in production. */
function uiDir(): string {
  const dir = join(tempDir(), 'ui');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Fieldstation</title>');
  return dir;
}

function expectSecurityHeaders(response: Response): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  const directives = Object.fromEntries(
    csp.split(';').map((directive) => {
      const [name, ...values] = directive.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
  expect(directives).toMatchObject({
    'default-src': "'self'",
    'script-src': "'self'",
    'object-src': "'none'",
    'base-uri': "'none'",
    'frame-ancestors': "'none'",
  });
  expect(csp).not.toContain('upgrade-insecure-requests');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
}

describe('security headers (running API)', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ env: { FRONTEND_DIR: uiDir() } }));
  });
  afterAll(async () => app.close());

  it('sends a strict CSP, nosniff, no referrer and no framing on the API and the UI over HTTP', async () => {
    for (const path of ['/api/v1/health', '/', '/api/v1/no-such-route']) {
      const response = await fetch(`${baseUrl}${path}`);
      expectSecurityHeaders(response);
      // Plain HTTP: HSTS would be meaningless, and a proxy's word for HTTPS is not trusted.
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
    const ui = await fetch(`${baseUrl}/`);
    expect(await ui.text()).toContain('<title>Fieldstation</title>');

    const claimed = await fetch(`${baseUrl}/api/v1/health`, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(claimed.headers.get('strict-transport-security')).toBeNull();
  });

  it('ignores X-Forwarded-* headers for the cookie and the client address without TRUST_PROXY', async () => {
    const api = new ApiClient(baseUrl);
    const { email, password } = await api.signUp('untrusted-proxy');
    const login = await api.request(
      'POST',
      '/auth/login',
      { email, password },
      {
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '203.0.113.7',
      },
    );
    expect(login.headers.getSetCookie()[0]).not.toMatch(/; Secure/);
    const sessions = await api.get<{ ip: string }[]>('/auth/sessions');
    expect(sessions.body.map((session) => session.ip)).not.toContain('203.0.113.7');
  });
});

describe('behind a trusted HTTPS proxy (TRUST_PROXY)', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({
      env: { FRONTEND_DIR: uiDir(), TRUST_PROXY: 'loopback' },
    }));
  });
  afterAll(async () => app.close());

  it('sends HSTS and a Secure refresh cookie, and takes the client address from the proxy', async () => {
    const viaProxy = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    for (const path of ['/api/v1/health', '/']) {
      const response = await fetch(`${baseUrl}${path}`, { headers: viaProxy });
      expectSecurityHeaders(response);
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000');
    }
    const plain = await fetch(`${baseUrl}/api/v1/health`, {
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(plain.headers.get('strict-transport-security')).toBeNull();

    const api = new ApiClient(baseUrl);
    const { email, password } = await api.signUp('behind-proxy');
    const login = await api.request('POST', '/auth/login', { email, password }, viaProxy);
    expect(login.status).toBe(200);
    expect(login.headers.getSetCookie()[0]).toMatch(
      /; Path=\/api\/v1\/auth; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(refreshCookieOf(login.headers)).toBeDefined();
    const sessions = await api.get<{ ip: string }[]>('/auth/sessions');
    expect(sessions.body.map((session) => session.ip)).toContain('203.0.113.7');
  });
});
