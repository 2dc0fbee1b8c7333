import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { waitFor } from './test-env';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/**
 * A small JSON client for the running API, the way the web UI talks to it. `sourceAddress`
 * (e.g. 127.0.0.2) makes its requests come from another loopback address, as a second client
 * machine would.
 */
export class ApiClient {
  accessToken: string | undefined;
  /** From the login answer's httpOnly cookie; tests send it back explicitly. */
  refreshToken: string | undefined;

  constructor(
    public baseUrl: string,
    private readonly sourceAddress?: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    const url = `${this.baseUrl}/api/v1${path}`;
    const payload =
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const response = this.sourceAddress
      ? await sendFrom(this.sourceAddress, url, method, headers, payload)
      : await fetch(url, { method, headers, body: payload });
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      headers: response.headers,
    };
  }

  get<T = unknown>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = unknown>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body);
  }
  patch<T = unknown>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = unknown>(path: string, body?: unknown) {
    return this.request<T>('DELETE', path, body);
  }

  async login(email: string, password: string): Promise<ApiResponse> {
    const response = await this.post<{ accessToken: string }>('/auth/login', {
      email,
      password,
    });
    if (response.status === 200) {
      this.accessToken = response.body.accessToken;
      this.refreshToken = refreshCookieOf(response.headers);
    }
    return response;
  }

  /** Registers a fresh account and signs in; returns its email and password. */
  async signUp(prefix = 'user'): Promise<{ email: string; password: string; userId: string }> {
    const email = `${prefix}-${randomBytes(4).toString('hex')}@example.org`;
    const password = `correct horse ${randomBytes(6).toString('hex')}`;
    const registered = await this.post<{ user: { id: string } }>('/auth/register', {
      email,
      username: prefix,
      password,
    });
    if (registered.status !== 201)
      throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
    const login = await this.login(email, password);
    if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
    return { email, password, userId: registered.body.user.id };
  }
}

export interface DeploymentState {
  id: string;
  status: string;
  step: string | null;
  error: string | null;
}

/** Waits until a deployment has succeeded, failed or been cancelled, and answers its record. */
export function finishedDeployment(
  api: ApiClient,
  deploymentId: string,
  timeoutMs = 120_000,
): Promise<DeploymentState> {
  return waitFor(
    async () => {
      const { body } = await api.get<DeploymentState>(`/deployments/${deploymentId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `deployment ${deploymentId} to finish` },
  );
}

/** An ssh-host credential for 127.0.0.1:`port` (a closed port where nothing may connect); its id. */
export async function sshHostCredential(
  api: ApiClient,
  port: number,
  name = 'pi',
): Promise<string> {
  const created = await api.post<{ id: string }>('/credentials', {
    type: 'ssh-host',
    name,
    host: '127.0.0.1',
    port,
    username: 'pi',
    auth: 'generated-key',
  });
  if (created.status !== 201) {
    throw new Error(`credential ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return created.body.id;
}

/** The value of the `fieldstation_refresh` cookie an answer sets, if any. */
export function refreshCookieOf(headers: Headers): string | undefined {
  for (const cookie of headers.getSetCookie()) {
    const match = /^fieldstation_refresh=([^;]*)/.exec(cookie);
    if (match) return match[1] || undefined;
  }
  return undefined;
}

/** fetch() cannot pick its source address; node:http can. Answers as a fetch Response. */
function sendFrom(
  localAddress: string,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    // A length, as fetch sends: node:http sends a DELETE body unframed otherwise.
    const framing = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const options = { method, headers: { ...headers, ...framing }, localAddress };
    const outgoing = httpRequest(url, options, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          for (const item of [value ?? []].flat()) answerHeaders.append(name, item);
        }
        resolve(
          new Response(incoming.statusCode === 204 ? null : Buffer.concat(chunks), {
            status: incoming.statusCode,
            headers: answerHeaders,
          }),
        );
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
