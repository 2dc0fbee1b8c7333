import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import { decodeJwt, SignJWT } from 'jose';
import type { Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupRun } from '../src/backups/backup-run.entity';
import { Deployment } from '../src/deployments/deployment.entity';
import { DeviceImportStore } from '../src/devices/device-import-store';
import { MAX_JSON_DEPTH } from '../src/common/json-depth';
import { ApiClient } from './api-client';
import { FAKE_AWS_ACCESS_KEY_ID, fakePemPrivateKey } from './fixtures/fake-credentials';
import { startTestApp } from './http-app';
import { freePort } from './test-env';

/**
 * Tenant isolation as a standing test: every operation of the committed OpenAPI document is
 * called with user A's ids, as user B, without a token and with forged tokens. Operations are
 * read from the document, ids are found by asking the API as A, and bodies are built from the
 * schemas, so a new route is covered without editing this file.
 */

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  minLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};
type Parameter = {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
};
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
type Call = { method: string; template: string; operation: Operation };

const PREFIX = '/api/v1';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Routes that answer without a token, each with the reason it must. */
const PUBLIC_ROUTES: Record<string, string> = {
  'GET /api/v1/health': 'probes of load balancers and container runtimes carry no token',
  'POST /api/v1/auth/register': 'creating an account precedes having a token',
  'POST /api/v1/auth/login': 'signing in is how a token is obtained',
  'POST /api/v1/auth/refresh':
    'the access token has expired when it is called; the refresh token authenticates',
  'POST /api/v1/auth/logout':
    'must work with an expired access token; the refresh token names the session',
};

const document = JSON.parse(readFileSync(join(__dirname, '../openapi.json'), 'utf8')) as Document;
const calls: Call[] = Object.entries(document.paths).flatMap(([template, operations]) =>
  Object.entries(operations).map(([method, operation]) => ({
    method: method.toUpperCase(),
    template,
    operation,
  })),
);
const key = (call: Call) => `${call.method} ${call.template}`;

function resolveRef(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolveRef(document.components.schemas[name]!);
}

/** The collection a path parameter or an `…Id` field points into, e.g. credentialId → credentials. */
function collectionOf(name: string): string {
  return `${name.replace(/Id$/, '').toLowerCase()}s`;
}

describe('Tenant isolation over every operation of openapi.json', () => {
  let app: INestApplication;
  let baseUrl: string;
  const alice = new ApiClient('');
  const bob = new ApiClient('');
  /** Every id of A's, by the collection path it was found under (`credentials`, `platforms`…). */
  const idsOf = new Map<string, Set<string>>();
  /** Strings no answer to anyone but A may contain: ids, names, secrets, email, tokens. */
  const markers = new Set<string>();
  const forged: Record<string, string> = {};

  function aliceIds(collection: string): string[] {
    return [...(idsOf.get(collection) ?? [])];
  }

  function anyAliceId(collection: string): string {
    return aliceIds(collection)[0] ?? [...idsOf.values()].flatMap((ids) => [...ids])[0]!;
  }

  /** A value the schema accepts; uuid fields point at A's resources of the matching collection. */
  function sample(schema: Schema, name = ''): unknown {
    const resolved = resolveRef(schema);
    if (resolved.oneOf ?? resolved.anyOf)
      return sample((resolved.oneOf ?? resolved.anyOf)![0]!, name);
    if (resolved.allOf) {
      return Object.assign({}, ...resolved.allOf.map((part) => sample(part, name) as object));
    }
    if (resolved.format === 'uuid') return anyAliceId(collectionOf(name));
    if (resolved.enum) return resolved.enum[0];
    if (resolved.example !== undefined) return resolved.example;
    if (resolved.default !== undefined) return resolved.default;
    switch (resolved.type) {
      case 'object': {
        const properties = resolved.properties ?? {};
        const chosen = Object.keys(properties).filter(
          (property) =>
            resolved.required?.includes(property) ||
            resolveRef(properties[property]!).format === 'uuid',
        );
        return Object.fromEntries(
          chosen.map((property) => [property, sample(properties[property]!, property)]),
        );
      }
      case 'array':
        return resolved.items ? [sample(resolved.items, name)] : [];
      case 'integer':
      case 'number':
        return resolved.minimum ?? 1;
      case 'boolean':
        return false;
      default:
        if (resolved.format === 'email') return 'probe@example.org';
        if (/password/i.test(name)) return 'a probing password 1234';
        return 'probe'.padEnd(resolved.minLength ?? 0, 'x');
    }
  }

  /** The request for one operation: A's ids in every path and uuid query parameter. */
  function requests(
    call: Call,
  ): { path: string; body?: { type: string; data: string | Buffer } }[] {
    const parameters = call.operation.parameters ?? [];
    let paths = [call.template];
    for (const parameter of parameters.filter((candidate) => candidate.in === 'path')) {
      const collection = call.template.split(`/{${parameter.name}}`)[0]!.split('/').pop()!;
      const ids = aliceIds(collection);
      if (ids.length === 0) throw new Error(`A owns nothing under ${collection}: ${key(call)}`);
      paths = paths.flatMap((path) => ids.map((id) => path.replace(`{${parameter.name}}`, id)));
    }
    const query = new URLSearchParams();
    for (const parameter of parameters.filter((candidate) => candidate.in === 'query')) {
      const schema = resolveRef(parameter.schema ?? {});
      if (schema.format === 'uuid' || /Id$/.test(parameter.name)) {
        query.set(parameter.name, anyAliceId(collectionOf(parameter.name)));
      } else if (parameter.required)
        query.set(parameter.name, String(sample(schema, parameter.name)));
    }
    const content = call.operation.requestBody?.content ?? {};
    const body = content['application/json']
      ? {
          type: 'application/json',
          data: JSON.stringify(sample(content['application/json'].schema ?? {})),
        }
      : Object.keys(content).length > 0
        ? { type: Object.keys(content)[0]!, data: Buffer.from('probe upload') }
        : undefined;
    const search = query.size > 0 ? `?${query}` : '';
    return paths.map((path) => ({ path: `${path}${search}`, body }));
  }

  async function send(
    method: string,
    path: string,
    token: string | undefined,
    body?: { type: string; data: string | Buffer },
  ): Promise<{ status: number; text: string }> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': body.type } : {}),
      },
      body: body?.data,
      signal: AbortSignal.timeout(10_000),
    });
    // An event stream stays open while its deployment runs: its status and headers tell enough.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, text: '' };
    }
    return { status: response.status, text: await response.text() };
  }

  function leaks(text: string): string[] {
    return [...markers].filter((marker) => text.includes(marker));
  }

  beforeAll(async () => {
    // API only, so nothing queued here ever runs: no launch, no SSH, no cloud.
    const closedPort = await freePort();
    ({ app, baseUrl } = await startTestApp({
      role: 'api',
      env: { NPM_REGISTRY_URL: `http://127.0.0.1:${closedPort}` },
    }));
    alice.baseUrl = baseUrl;
    bob.baseUrl = baseUrl;
    const suffix = randomBytes(3).toString('hex');
    const { email, password, userId: aliceUserId } = await alice.signUp(`alice-${suffix}`);
    await bob.signUp(`bob-${suffix}`);
    const secrets = {
      aws: `aws-secret-ISOLATION-${suffix}-0123456789`,
      gcp: `gcp-key-ISOLATION-${suffix}`,
      openstack: `openstack-pw-ISOLATION-${suffix}`,
      s3: `s3-secret-ISOLATION-${suffix}`,
    };
    const name = (kind: string) => `alice-${kind}-${suffix}`;
    const created = async (path: string, body: object) => {
      const answer = await alice.post<Record<string, unknown>>(path, body);
      expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
      return answer.body;
    };
    const aws = await created('/credentials', {
      type: 'aws',
      name: name('aws'),
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: secrets.aws,
    });
    await created('/credentials', {
      type: 'gcp',
      name: name('gcp'),
      serviceAccountJson: JSON.stringify({
        type: 'service_account',
        project_id: 'fieldstation-test',
        private_key_id: 'k1',
        private_key: fakePemPrivateKey(secrets.gcp),
        client_email: 'deployer@fieldstation-test.iam.gserviceaccount.com',
      }),
    });
    await created('/credentials', {
      type: 'openstack',
      name: name('openstack'),
      authUrl: 'https://keystone.example.org:5000/v3',
      username: 'ada',
      password: secrets.openstack,
      projectName: 'iot',
    });
    const ssh = await created('/credentials', {
      type: 'ssh-host',
      name: name('ssh'),
      host: '192.0.2.10',
      username: 'pi',
      auth: 'generated-key',
    });
    await created('/spaces', {
      name: name('space'),
      target: 'aws',
      credentialId: aws.id,
      options: { region: 'eu-west-1' },
    });
    const platform = (await created('/platforms', {
      name: `alice-${suffix}`,
      target: 'ssh-host',
      credentialId: ssh.id,
    })) as { platform: { id: string } };
    const bucket = await created('/credentials', {
      type: 's3',
      name: name('s3'),
      endpoint: 'https://s3.example.org',
      region: 'us-east-1',
      bucket: `alice-${suffix}`,
      accessKeyId: `ALICE${suffix}`,
      secretAccessKey: secrets.s3,
    });
    // A backup schedule also issues a standing grant (listed under /account/grants).
    const schedule = await created(`/platforms/${platform.platform.id}/backup-schedules`, {
      credentialId: bucket.id,
      preset: 'daily',
    });
    // A backup run (a turn that could not start: nothing runs in an API-only app).
    await app.get<Repository<BackupRun>>(getRepositoryToken(BackupRun)).insert({
      id: randomUUID(),
      userId: aliceUserId,
      platformId: platform.platform.id,
      kind: 'backup',
      scheduleId: schedule.id as string,
      deploymentId: null,
      credentialId: bucket.id as string,
      status: 'failed',
      error: 'The platform is queued, not running: nothing to back up',
    });
    // A device import (its id is a deployment's; nothing runs here, so the launch's stands in).
    const importId = (
      await app
        .get<Repository<Deployment>>(getRepositoryToken(Deployment))
        .findOneByOrFail({ targetId: platform.platform.id })
    ).id;
    await app.get(DeviceImportStore).create(
      importId,
      {
        userId: aliceUserId,
        platformId: platform.platform.id,
        revokeMissing: false,
        origin: { ip: null, userAgent: null },
      },
      [{ name: 'probe', labels: {} }],
    );
    // A notification channel (its launch-created alert rules come with the platform).
    await created('/notification-channels', {
      name: name('webhook'),
      kind: 'webhook',
      url: 'https://hooks.example.org/alice',
    });

    // A's ids, by collection: whatever A's list and read operations answer.
    const found = (collection: string, ids: unknown[]) => {
      const known = idsOf.get(collection) ?? new Set<string>();
      for (const id of ids) if (typeof id === 'string') known.add(id);
      idsOf.set(collection, known);
    };
    /** The `id` of a record, or of each record of a list. */
    const recordIds = (text: string): unknown[] => {
      const value = JSON.parse(text) as unknown;
      const records = Array.isArray(value) ? value : [value];
      return records.map((record) => (record as { id?: unknown } | null)?.id);
    };
    const ownIds = () => new Set([...idsOf.values()].flatMap((ids) => [...ids]));
    const readable = calls.filter((call) => call.method === 'GET');
    for (let round = 0; round < 2; round++) {
      for (const call of readable) {
        const segments = call.template.replace(PREFIX, '').split('/').filter(Boolean);
        const collection = segments.findLast((segment) => !segment.startsWith('{'))!;
        const templates = call.template.includes('{')
          ? [...ownIds()].map((id) => call.template.replace(/\{[^}]+\}/, id))
          : [call.template];
        for (const path of templates) {
          const query = (call.operation.parameters ?? [])
            .filter((parameter) => parameter.in === 'query' && /Id$/.test(parameter.name))
            .map((parameter) => parameter.name);
          for (const id of query.length > 0 ? [...ownIds()] : ['']) {
            const search = query.map((parameter) => `${parameter}=${id}`).join('&');
            const answer = await send(
              'GET',
              `${path}${search ? `?${search}` : ''}`,
              alice.accessToken,
            );
            if (
              answer.status !== 200 ||
              (!answer.text.startsWith('[') && !answer.text.startsWith('{'))
            )
              continue;
            // A list's ids belong to its collection (also a nested one, e.g. a platform's
            // devices); a record's id to the collection it was read from.
            if (!call.template.includes('{') || answer.text.startsWith('['))
              found(collection, recordIds(answer.text));
            else if (segments.at(-1)!.startsWith('{'))
              found(segments.at(-2)!, recordIds(answer.text));
          }
        }
      }
    }
    // Copy-from names the other platform: one of A's platforms.
    found('copy-from', [...(idsOf.get('platforms') ?? [])]);
    // A device import is read by its id only (no list).
    found('imports', [importId]);
    const bobIds = (await bob.get<{ id: string }>('/auth/me')).body.id;
    for (const ids of idsOf.values()) ids.delete(bobIds);

    // A's generated SSH private key: its base64 lines are secrets too.
    const revealed = await alice.post<{ privateKey: string }>('/auth/ssh-key/reveal', { password });
    for (const line of revealed.body.privateKey.split('\n').filter((text) => text.length >= 40)) {
      markers.add(line);
    }
    for (const id of ownIds()) markers.add(id);
    // The refresh token travels in a cookie now; an older client may still hold one.
    for (const value of [...Object.values(secrets), email, `alice-${suffix}`, alice.refreshToken]) {
      if (value) markers.add(value);
    }
    markers.add(alice.accessToken!.split('.')[2]!);

    // Forged access tokens: A's claims, but no signature, a wrong key, or a tampered signature.
    const claims = decodeJwt(alice.accessToken!);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    forged.unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    forged.wrongKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(randomBytes(32));
    const [head, payload, signature] = alice.accessToken!.split('.');
    forged.tampered = `${head}.${payload}.${signature!.slice(0, -4)}${signature!.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it('reads an up-to-date document: the running API serves the same operations', async () => {
    const live = JSON.parse((await send('GET', '/api/docs/json', undefined)).text) as Document;
    const operations = (doc: Document) =>
      Object.entries(doc.paths)
        .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`))
        .sort();
    expect(operations(live)).toEqual(operations(document));
    for (const route of Object.keys(PUBLIC_ROUTES)) {
      expect(calls.map(key), `${route} is listed as public but is not in the document`).toContain(
        route,
      );
    }
  });

  it('found one of every resource of A: credentials of each type, a space, a platform, a deployment, a session, a backup schedule and its grant, a backup run, a notification channel, alert rules', () => {
    expect(aliceIds('credentials')).toHaveLength(5);
    expect(aliceIds('backup-schedules')).toHaveLength(1);
    expect(aliceIds('backups')).toHaveLength(1);
    expect(aliceIds('notification-channels')).toHaveLength(1);
    expect(aliceIds('alert-rules').length).toBeGreaterThanOrEqual(1);
    expect(aliceIds('grants').length).toBeGreaterThanOrEqual(1);
    expect(aliceIds('spaces')).toHaveLength(1);
    expect(aliceIds('platforms')).toHaveLength(1);
    expect(aliceIds('deployments').length).toBeGreaterThanOrEqual(2);
    expect(aliceIds('sessions')).toHaveLength(1);
  });

  it('answers 401 to every non-public operation without a token or with a forged one', async () => {
    const failures: string[] = [];
    for (const call of calls.filter((candidate) => !(key(candidate) in PUBLIC_ROUTES))) {
      for (const { path, body } of requests(call)) {
        for (const [who, token] of [['no token', undefined], ...Object.entries(forged)] as const) {
          const { status, text } = await send(call.method, path, token, body);
          if (status !== 401)
            failures.push(`${call.method} ${path} (${who}): ${status} ${text.slice(0, 200)}`);
          const leaked = leaks(text);
          if (leaked.length > 0)
            failures.push(`${call.method} ${path} (${who}) leaked ${leaked.join(', ')}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("never lets B reach A's resources, nor shows B anything of A's", async () => {
    const failures: string[] = [];
    for (const call of calls) {
      const onAlicesId = call.template.includes('{');
      for (const { path, body } of requests(call)) {
        const { status, text } = await send(call.method, path, bob.accessToken, body);
        const carriesAliceId = [
          ...(path.match(UUID) ?? []),
          ...(String(body?.data ?? '').match(UUID) ?? []),
        ].some((id) => markers.has(id));
        // With A's id in the path B must not get past the lookup. A's id in a query or body may
        // also fail validation first (400, 409, 422); B's own-account calls may succeed.
        // A GET filtered by A's id (a list) may answer B's own, empty, list.
        const allowed = onAlicesId
          ? [401, 403, 404]
          : carriesAliceId && call.method !== 'GET'
            ? [400, 401, 403, 404, 409, 422]
            : undefined;
        if (status >= 500 || (allowed && !allowed.includes(status))) {
          failures.push(`${call.method} ${path} (B): ${status} ${text.slice(0, 200)}`);
        }
        const leaked = leaks(text);
        if (leaked.length > 0)
          failures.push(`${call.method} ${path} (B) leaked ${leaked.join(', ')}`);
        if (key(call) in PUBLIC_ROUTES) {
          const anonymous = await send(call.method, path, undefined, body);
          if (anonymous.status >= 500 || leaks(anonymous.text).length > 0) {
            failures.push(
              `${call.method} ${path} (no token): ${anonymous.status} ${anonymous.text.slice(0, 200)}`,
            );
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it(`answers 400 JSON_TOO_DEEP to a body nested 3,000 deep on every JSON operation`, async () => {
    const deep = `{"a":${'['.repeat(2999)}${']'.repeat(2999)}}`;
    const failures: string[] = [];
    for (const call of calls.filter(
      (candidate) => candidate.operation.requestBody?.content['application/json'],
    )) {
      const [{ path }] = requests(call) as [{ path: string }];
      for (const token of [undefined, bob.accessToken]) {
        const { status, text } = await send(call.method, path, token, {
          type: 'application/json',
          data: deep,
        });
        const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        if (status !== 400 || code !== 'JSON_TOO_DEEP') {
          failures.push(`${call.method} ${path}: ${status} ${text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(MAX_JSON_DEPTH).toBeLessThan(3000);
  });
});
