import type { CookieOptions, Request, Response } from 'express';
import { REFRESH_TOKEN_TTL_MS } from './tokens';

/**
 * The refresh token travels only in this cookie: httpOnly (page scripts never see it),
 * SameSite=Strict (no other site can make the browser send it), sent only to the auth routes,
 * and Secure whenever the request came over HTTPS (directly, or through a trusted proxy).
 */
export const REFRESH_COOKIE = 'fieldstation_refresh';
export const REFRESH_COOKIE_PATH = '/api/v1/auth';

function cookieOptions(request: Request): CookieOptions {
  return { httpOnly: true, secure: request.secure, sameSite: 'strict', path: REFRESH_COOKIE_PATH };
}

export function setRefreshCookie(request: Request, response: Response, token: string): void {
  response.cookie(REFRESH_COOKIE, token, {
    ...cookieOptions(request),
    maxAge: REFRESH_TOKEN_TTL_MS,
  });
}

export function clearRefreshCookie(request: Request, response: Response): void {
  response.clearCookie(REFRESH_COOKIE, cookieOptions(request));
}

/** The refresh token from the request's Cookie header (the first one of that name). */
export function refreshCookieOf(request: Request): string | undefined {
  for (const pair of (request.get('cookie') ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === REFRESH_COOKIE) {
      return pair.slice(separator + 1).trim() || undefined;
    }
  }
  return undefined;
}
