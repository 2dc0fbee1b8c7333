import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config';
import { LOOKUP_CONCURRENCY, MAX_PACKAGES, NpmRegistry } from './npm-registry';

/**
 * A local HTTP server in the registry's place (the public registry is not reachable here): it
 * knows every package, answers after a little latency and counts the lookups in flight.
 */
describe('NpmRegistry against a local registry server', () => {
  let server: Server;
  let registry: NpmRegistry;
  let inFlight = 0;
  let mostInFlight = 0;
  let lookups = 0;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      lookups++;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }, 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    registry = new NpmRegistry({ npmRegistryUrl: `http://127.0.0.1:${port}` } as AppConfig);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const packages = (count: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, index) => [`pkg-${index}`, '1.0.0']));

  it(`looks packages up at most ${LOOKUP_CONCURRENCY} at a time`, async () => {
    mostInFlight = 0;
    lookups = 0;
    expect(await registry.check(packages(MAX_PACKAGES))).toEqual([]);
    expect(lookups).toBe(MAX_PACKAGES);
    expect(mostInFlight).toBe(LOOKUP_CONCURRENCY);
  });

  it(`refuses more than ${MAX_PACKAGES} packages before looking any up`, async () => {
    lookups = 0;
    await expect(registry.check(packages(2000))).rejects.toMatchObject({
      status: 400,
      response: { error: { code: 'TOO_MANY_PACKAGES', details: { max: MAX_PACKAGES } } },
    });
    expect(lookups).toBe(0);
  });
});
