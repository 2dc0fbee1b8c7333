import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * The policy for the web UI and every API answer. Scripts only from this origin (the built app
 * has no inline script). Styles also allow 'unsafe-inline': PrimeVue's theme writes its CSS
 * variables into <style> elements at run time, and Vue binds `style` attributes; a nonce would
 * need the server to rewrite index.html per answer and hand the nonce to the page's scripts,
 * which buys little, as injected CSS cannot run code.
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** One year; only sent on HTTPS answers, where browsers honour it. */
const HSTS = 'max-age=31536000';

/**
 * Helmet's headers with a strict CSP, no framing and no referrer. HSTS only on requests that
 * arrived over HTTPS (directly or, with TRUST_PROXY, per the proxy's X-Forwarded-Proto): sent
 * over plain HTTP it would be meaningless, and an install reached by http://host:8080 must not
 * be told to upgrade what it cannot serve.
 */
export function securityHeaders() {
  const headers = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  return (request: Request, response: Response, next: NextFunction): void => {
    if (request.secure) response.setHeader('Strict-Transport-Security', HSTS);
    headers(request, response, next);
  };
}
