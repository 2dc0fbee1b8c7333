import { randomBytes } from 'node:crypto';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/** A small JSON client for the running API, the way the web UI talks to it. */
export class ApiClient {
  accessToken: string | undefined;
  refreshToken: string | undefined;

  constructor(public baseUrl: string) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
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
    const response = await this.post<{ accessToken: string; refreshToken: string }>('/auth/login', {
      email,
      password,
    });
    if (response.status === 200) {
      this.accessToken = response.body.accessToken;
      this.refreshToken = response.body.refreshToken;
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
