import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../test/http-app';
import { renderOpenApi } from './openapi/write-openapi';

describe('HTTP application', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp());
  });
  afterAll(async () => app.close());

  it('reports database and Redis up on /api/v1/health', async () => {
    const response = await fetch(`${baseUrl}/api/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      database: 'up',
      redis: 'up',
      // The test suite installs OpenTofu (npm), Ansible and OpenSSH: a launch could run here.
      launchReady: true,
      launchTools: [
        { tool: 'tofu', problem: null },
        { tool: 'ansible-playbook', problem: null },
        { tool: 'ssh', problem: null },
      ],
    });
  });

  it('answers unknown routes with the error shape of DESIGN §3', async () => {
    const response = await fetch(`${baseUrl}/api/v1/no-such-thing`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.message).toContain('/api/v1/no-such-thing');
  });

  it('rejects malformed and oversized JSON bodies with clear codes', async () => {
    const malformed = await fetch(`${baseUrl}/api/v1/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { code: 'MALFORMED_JSON', message: 'Body is not valid JSON' },
    });

    const oversized = await fetch(`${baseUrl}/api/v1/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(oversized.status).toBe(413);
    expect(((await oversized.json()) as { error: { code: string } }).error.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('serves the OpenAPI document, identical to the committed backend/openapi.json', async () => {
    const response = await fetch(`${baseUrl}/api/docs/json`);
    expect(response.status).toBe(200);
    const served = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(served.paths)).toContain('/api/v1/health');

    const committed = readFileSync(join(__dirname, '../openapi.json'), 'utf8');
    expect(await renderOpenApi()).toBe(committed);
    expect(JSON.parse(committed)).toEqual(served);
  });
});
