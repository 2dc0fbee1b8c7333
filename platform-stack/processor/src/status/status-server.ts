import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `GET /status`: counters and latencies as JSON. `GET /healthz`: 200 while the processor consumes
 * and its database is reachable, 503 otherwise (the container health check). `GET /script-log`:
 * the script's last output lines, `GET /devices`: per-device figures (main.ts). Only reads:
 * nothing here changes the processor.
 */
export class StatusServer {
  private readonly server: http.Server;

  constructor(
    private readonly snapshot: () => Record<string, unknown>,
    private readonly healthy: () => boolean,
    /** Further read-only JSON answers by path (e.g. `/script-log`). */
    private readonly extra: Record<string, () => unknown> = {},
  ) {
    this.server = http.createServer((request, response) => {
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'GET') return send(405, { error: 'method not allowed' });
      if (request.url === '/status') return send(200, this.snapshot());
      const answer =
        request.url && Object.hasOwn(this.extra, request.url) ? this.extra[request.url] : undefined;
      if (answer) return send(200, answer());
      if (request.url === '/healthz') {
        return this.healthy() ? send(200, { status: 'ok' }) : send(503, { status: 'unavailable' });
      }
      send(404, { error: 'not found' });
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
