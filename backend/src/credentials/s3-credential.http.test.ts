import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { s3CredentialBody, testS3, testS3Client } from '../../test/test-s3';
import { freePort } from '../../test/test-env';

type Report = { type: string; ok: boolean; failedStep?: string; code?: string; message: string };
type Credential = { id: string; storedSecrets: string[] } & Record<string, unknown>;

describe('s3 credentials (running API, s3rver)', () => {
  let app: INestApplication;
  let api: ApiClient;

  beforeAll(async () => {
    let baseUrl: string;
    ({ app, baseUrl } = await startTestApp());
    api = new ApiClient(baseUrl);
    await api.signUp('s3');
  });
  afterAll(async () => app?.close());

  async function create(name: string, overrides: object = {}): Promise<Credential> {
    const response = await api.post<Credential>(
      '/credentials',
      s3CredentialBody(name, `conn-${randomUUID()}/`, overrides),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  async function test(id: string) {
    const response = await api.post<Report>(`/credentials/${id}/test`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  it('stores the public fields, seals both keys, and passes the test leaving nothing behind', async () => {
    const credential = await create('backups');
    const s3 = testS3();
    expect(credential).toMatchObject({
      type: 's3',
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      pathStyle: true,
      accessKeyIdHint: s3.accessKeyId.slice(-4),
      storedSecrets: ['accessKeyId', 'secretAccessKey'],
    });
    expect(credential).not.toHaveProperty('secretAccessKey');
    expect(credential).not.toHaveProperty('accessKeyId');

    const report = await test(credential.id);
    expect(report).toMatchObject({ type: 's3', ok: true });
    const left = await testS3Client().send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: String(credential.prefix) }),
    );
    expect(left.KeyCount ?? 0).toBe(0);
  });

  it('names the failure: wrong key, missing bucket, no answer', async () => {
    const wrongKey = await test((await create('wrong-key', { accessKeyId: 'NOTAKEY' })).id);
    expect(wrongKey).toMatchObject({ ok: false, failedStep: 'write', code: 'BAD_ACCESS_KEY' });
    expect(wrongKey.message).toMatch(/InvalidAccessKeyId/);

    // s3rver does not verify SigV4 signatures, so a wrong secret key cannot be shown here.
    const missing = await test((await create('no-bucket', { bucket: 'no-such-bucket' })).id);
    expect(missing).toMatchObject({ ok: false, failedStep: 'write', code: 'BUCKET_NOT_FOUND' });
    expect(missing.message).toMatch(/NoSuchBucket/);

    const closedPort = await freePort();
    const silent = await test(
      (await create('no-answer', { endpoint: `http://127.0.0.1:${closedPort}` })).id,
    );
    expect(silent).toMatchObject({ ok: false, failedStep: 'write', code: 'UNREACHABLE' });
  });

  it('refuses bad input with 400 naming the field, and a test for a type without one', async () => {
    for (const [field, value] of [
      ['endpoint', 'ftp://storage.example.org'],
      ['endpoint', 'not a url'],
      ['bucket', 'Bad_Bucket'],
      ['prefix', '../escape/'],
      ['pathStyle', 'yes'],
    ] as const) {
      const response = await api.post<ErrorBody>(
        '/credentials',
        s3CredentialBody(`bad-${field}`, 'p/', { [field]: value }),
      );
      expect(response.status, `${field}=${value}`).toBe(400);
      expect(JSON.stringify(response.body.error.details)).toContain(field);
    }
    const aws = await api.post<Credential>('/credentials', {
      type: 'aws',
      name: 'aws-main',
      region: 'eu-central-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: 'aws-secret-for-the-test',
    });
    const refused = await api.post<ErrorBody>(`/credentials/${aws.body.id}/test`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('CONNECTION_TEST_UNSUPPORTED');
    const other = new ApiClient(api.baseUrl);
    await other.signUp('s3-other');
    const foreign = await other.post<ErrorBody>(`/credentials/${aws.body.id}/test`);
    expect(foreign.status).toBe(404);
  });
});
