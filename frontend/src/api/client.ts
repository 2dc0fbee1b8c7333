import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * The one HTTP client of the app, typed from the backend's committed OpenAPI document
 * (`backend/openapi.json` → `schema.d.ts`, generated at build time; never hand-written).
 * It adds the access token and, on a 401, refreshes the session once and retries.
 */
export const api = createClient<paths>({ baseUrl: '/' });

export type Schemas = components['schemas'];

export interface AuthHandlers {
  accessToken: () => string | undefined;
  /** Resolves true when a new access token is available. */
  refresh: () => Promise<boolean>;
}

let handlers: AuthHandlers | undefined;
const retryable = new WeakMap<Request, Request>();

export function useAuthHandlers(next: AuthHandlers): void {
  handlers = next;
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = handlers?.accessToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    // Kept to replay the request after a refresh: a sent body cannot be read twice.
    if (!request.url.includes('/api/v1/auth/')) retryable.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const copy = retryable.get(request);
    if (response.status !== 401 || !copy || !handlers || !(await handlers.refresh()))
      return response;
    copy.headers.set('authorization', `Bearer ${handlers.accessToken()}`);
    return fetch(copy);
  },
};

api.use(authMiddleware);
