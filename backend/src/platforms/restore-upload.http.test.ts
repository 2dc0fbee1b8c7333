import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, finishedDeployment } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { freeLoopbackPort } from '../common/free-port';
import { Platform } from './platform.entity';

const MB = 1024 * 1024;

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; deploymentId?: string };
  /** Bytes written before the answer arrived. */
  sent: number;
}

/**
 * POSTs an upload with a raw HTTP request: `declared` is the Content-Length header (absent:
 * chunked), `send` the bytes actually written. Stops writing as soon as an answer arrives, so a
 * test can tell whether the server answered before reading the whole body.
 */
function upload(
  baseUrl: string,
  token: string,
  platformId: string,
  { declared, send }: { declared?: number; send: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const outgoing = request(`${baseUrl}/api/v1/platforms/${platformId}/restore`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        ...(declared === undefined ? {} : { 'content-length': String(declared) }),
      },
    });
    outgoing.on('response', (response) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        outgoing.destroy();
        resolve({ status: response.statusCode!, body: JSON.parse(text) as Answer['body'], sent });
      });
    });
    // The server may close the connection right after answering a refused upload.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const write = () => {
      while (!answered && sent < send) {
        const piece = chunk.subarray(0, Math.min(chunk.length, send - sent));
        sent += piece.length;
        if (!outgoing.write(piece)) return void outgoing.once('drain', write);
      }
      // A declared length larger than what was sent keeps the request open: no end().
      if (!answered && (declared === undefined || declared === sent)) outgoing.end();
    };
    write();
  });
}

describe('Restore uploads', () => {
  let app: INestApplication;
  let baseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    ({ app, baseUrl, dataDir } = await startTestApp({
      env: { SSH_WAIT_SECONDS: '1', RESTORE_UPLOAD_MAX_MB: '1', RESTORE_UPLOAD_QUOTA_MB: '1' },
    }));
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Files in the user's upload folder (received, partial or waiting for a restore). */
  const uploads = (userId: string) => {
    const folder = join(dataDir, 'uploads', userId);
    return existsSync(folder) ? readdirSync(folder) : [];
  };

  /**
   * A platform whose host went away: launched against a closed SSH port (it fails there), then
   * marked running directly in the database, since a real launch is not what this test is about.
   */
  async function runningPlatform(api: ApiClient, name: string): Promise<string> {
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name,
      host: '127.0.0.1',
      // Each platform on a host of its own: two on one host would hold the same default ports.
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    const launched = await api.post<{ platform: { id: string }; deploymentId: string }>(
      '/platforms',
      // No TLS: the launch never got to issuing certificates, which a TLS restore would need.
      { name, target: 'ssh-host', credentialId: credential.body.id, tls: false },
    );
    expect((await finishedDeployment(api, launched.body.deploymentId)).status).toBe('failed');
    const id = launched.body.platform.id;
    await app.get(DataSource).getRepository(Platform).update({ id }, { status: 'running' });
    return id;
  }

  it('refuses before reading the body, caps the size and the quota, removes the file on cancel', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('restorer');
    const token = api.accessToken!;
    const first = await runningPlatform(api, 'barn');
    const second = await runningPlatform(api, 'shed');

    // Declared 600 MB: refused from the header alone, with little of the body sent.
    const declaredTooLarge = await upload(baseUrl, token, first, { declared: 600 * MB, send: MB });
    expect(declaredTooLarge.status).toBe(413);
    expect(declaredTooLarge.body.error).toMatchObject({
      code: 'RESTORE_TOO_LARGE',
      message: 'A restore upload may be at most 1 MB for this platform',
    });
    expect(declaredTooLarge.sent).toBeLessThan(600 * MB);
    // Chunked (no length given): cut off once past the limit, the partial file deleted.
    const streamedTooLarge = await upload(baseUrl, token, first, { send: 3 * MB });
    expect(streamedTooLarge.status).toBe(413);
    expect(streamedTooLarge.body.error?.code).toBe('RESTORE_TOO_LARGE');
    expect(uploads(userId)).toEqual([]);

    const accepted = await upload(baseUrl, token, first, { send: 700 * 1024 });
    expect(accepted.status).toBe(202);
    const deploymentId = accepted.body.deploymentId!;
    expect(uploads(userId)).toEqual([`${deploymentId}.restore`]);
    const stored = statSync(join(dataDir, 'uploads', userId, `${deploymentId}.restore`));
    expect(stored.size).toBe(700 * 1024);
    expect(stored.mode & 0o777).toBe(0o600);

    // The same platform is busy: 409 before a byte is read (only the first chunk was written).
    const busy = await upload(baseUrl, token, first, { declared: 600 * MB, send: 64 * 1024 });
    expect(busy.status).toBe(409);
    expect(busy.body.error?.code).toBe('DEPLOYMENT_IN_PROGRESS');
    // Another platform: within the size limit, but over what the user may keep stored.
    for (const declared of [700 * 1024, undefined]) {
      const overQuota = await upload(baseUrl, token, second, { declared, send: 700 * 1024 });
      expect(overQuota.status).toBe(413);
      expect(overQuota.body.error?.code).toBe('RESTORE_QUOTA_EXCEEDED');
    }
    expect(uploads(userId)).toEqual([`${deploymentId}.restore`]);

    // The restore waits for SSH on a host that is gone; a cancel ends it and deletes the upload.
    await waitFor(async () => {
      const { body } = await api.get<{ step: string | null }>(`/deployments/${deploymentId}`);
      return body.step === 'restore' ? true : undefined;
    });
    const cancelAt = Date.now();
    expect((await api.post(`/deployments/${deploymentId}/cancel`)).status).toBe(202);
    expect((await finishedDeployment(api, deploymentId)).status).toBe('cancelled');
    expect(Date.now() - cancelAt).toBeLessThan(5_000);
    await waitFor(() => (uploads(userId).length === 0 ? true : undefined), {
      what: 'the upload to be removed',
    });

    // The quota is free again.
    const afterCancel = await upload(baseUrl, token, second, { send: 700 * 1024 });
    expect(afterCancel.status).toBe(202);
    await api.post(`/deployments/${afterCancel.body.deploymentId}/cancel`);
    expect((await finishedDeployment(api, afterCancel.body.deploymentId!)).status).toBe(
      'cancelled',
    );
  });
});
