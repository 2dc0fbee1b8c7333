import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { Credential } from '../credentials/credential.entity';
import { MAX_JSON_DEPTH } from './json-depth';

/** `[[[…]]]` inside `{"name": …}`: 3,000 levels take 15 KB, far below the 1 MB body limit. */
function nested(depth: number): string {
  return `{"name":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

const STACK_FRAME = /\n\s+at |\.ts:\d+|node_modules/;

describe('Hostile request bodies', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    // API only: nothing here needs a worker, and no queued job should run.
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  async function send(api: ApiClient, method: string, path: string, body: string) {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(api.accessToken ? { authorization: `Bearer ${api.accessToken}` } : {}),
      },
      body,
    });
    return { status: response.status, text: await response.text() };
  }

  it('answers 400 JSON_TOO_DEEP, never a 500 or a stack trace, for JSON nested 3,000 deep', async () => {
    const api = new ApiClient(baseUrl);
    const anonymous = new ApiClient(baseUrl);
    await api.signUp('deep');
    const deep = nested(3000);
    expect(deep.length).toBeLessThan(16 * 1024);
    const routes: [ApiClient, string, string][] = [
      [anonymous, 'POST', '/auth/register'],
      [anonymous, 'POST', '/auth/login'],
      [anonymous, 'POST', '/auth/refresh'],
      [api, 'POST', '/credentials'],
      [api, 'POST', '/spaces'],
      [api, 'POST', '/platforms'],
    ];
    for (const [client, method, path] of routes) {
      const { status, text } = await send(client, method, path, deep);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(JSON.parse(text)).toEqual({
        error: {
          code: 'JSON_TOO_DEEP',
          message: `Body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
        },
      });
      expect(text).not.toMatch(STACK_FRAME);
    }
    // Brackets inside strings are text, not nesting; the limit itself is still accepted.
    const inString = await send(
      anonymous,
      'POST',
      '/auth/login',
      `{"email":"${'['.repeat(5000)}"}`,
    );
    expect(JSON.parse(inString.text).error.code).toBe('VALIDATION_FAILED');
    const atLimit = await send(anonymous, 'POST', '/auth/login', nested(MAX_JSON_DEPTH));
    expect(JSON.parse(atLimit.text).error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 400 naming the field for null where a value is required, and stores nothing', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('nulls');
    const aws = await api.post<{ id: string; name: string }>('/credentials', {
      type: 'aws',
      name: 'aws',
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: 'aws-secret-NULLTEST-71c0a2d9',
    });
    const ssh = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'pi',
      host: '192.0.2.10',
      username: 'pi',
      auth: 'generated-key',
    });
    const credentials = app.get(DataSource).getRepository(Credential);
    const before = await credentials.findOneByOrFail({ id: aws.body.id });

    const cases: [string, object, string][] = [
      [aws.body.id, { name: null }, 'name'],
      [aws.body.id, { secretAccessKey: null }, 'secretAccessKey'],
      [aws.body.id, { region: null, name: 'renamed' }, 'region'],
      [ssh.body.id, { port: null }, 'port'],
      [ssh.body.id, { privateKey: null }, 'privateKey'],
    ];
    for (const [id, body, field] of cases) {
      const answer = await api.patch<ErrorBody>(`/credentials/${id}`, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.message).toBe(
        `${field}: ${field} must not be null (leave it out instead)`,
      );
      expect(answer.body.error.details).toEqual([
        { field, problems: [`${field} must not be null (leave it out instead)`] },
      ]);
    }
    const after = await credentials.findOneByOrFail({ id: aws.body.id });
    expect(after.name).toBe('aws');
    expect(after.secrets).toEqual(before.secrets);
    expect(after.fields).toEqual(before.fields);

    // Through the global pipe too, also in nested inputs; null stays allowed where documented.
    const launch = (body: object) =>
      api.post<ErrorBody>('/platforms', {
        name: 'greenhouse',
        target: 'ssh-host',
        credentialId: ssh.body.id,
        ...body,
      });
    const nullName = await launch({ name: null });
    expect(nullName.status).toBe(400);
    expect(nullName.body.error.message).toBe('name: name must not be null (leave it out instead)');
    const nullOption = await launch({ options: { dataDevice: null } });
    expect(nullOption.body.error.details).toEqual([
      {
        field: 'options.dataDevice',
        problems: ['dataDevice must not be null (leave it out instead)'],
      },
    ]);
    const noTlsPort = await launch({ ports: { amqps: null, mqtts: null } });
    expect(noTlsPort.status).toBe(202);
  });
});
