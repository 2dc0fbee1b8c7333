import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { waitFor } from '../../test/test-env';
import { SessionsService } from '../auth/sessions.service';
import { Tokens } from '../auth/tokens';
import { DeploymentGrants, GrantUnavailableError } from '../grants/deployment-grants.service';
import { CredentialsService } from './credentials.service';
import { FAKE_AWS_ACCESS_KEY_ID, fakePemPrivateKey } from '../../test/fixtures/fake-credentials';

const SECRETS = {
  accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
  secretAccessKey: 'aws-secret-MARKER-7f3a9c1e55d0b2',
  gcpPrivateKey: 'gcp-private-MARKER-0c9d8e7f6a5b4c',
  openstackPassword: 'openstack-MARKER-password-91b2c3',
};

const serviceAccount = JSON.stringify({
  type: 'service_account',
  project_id: 'fieldstation-test',
  private_key_id: 'abc123',
  private_key: fakePemPrivateKey(SECRETS.gcpPrivateKey),
  client_email: 'deployer@fieldstation-test.iam.gserviceaccount.com',
});
const uploadedKey = utils.generateKeyPairSync('ed25519').private;

const samples = {
  aws: {
    type: 'aws',
    name: 'aws-main',
    region: 'eu-central-1',
    accessKeyId: SECRETS.accessKeyId,
    secretAccessKey: SECRETS.secretAccessKey,
  },
  gcp: { type: 'gcp', name: 'gcp-main', serviceAccountJson: serviceAccount },
  openstack: {
    type: 'openstack',
    name: 'os-main',
    authUrl: 'https://keystone.example.org:5000/v3',
    username: 'ada',
    password: SECRETS.openstackPassword,
    projectName: 'iot',
  },
  sshHost: {
    type: 'ssh-host',
    name: 'pi-host',
    host: '192.0.2.10',
    username: 'ubuntu',
    auth: 'uploaded-key',
    privateKey: uploadedKey,
  },
};

type Credential = { id: string; type: string; name: string; storedSecrets: string[] } & Record<
  string,
  unknown
>;

describe('credentials (running API, SQLite, Redis)', () => {
  let app: INestApplication;
  let baseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    ({ app, baseUrl, dataDir } = await startTestApp());
  });
  afterAll(async () => app?.close());

  it('stores every type, shows public fields only and never a secret value', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('creds');
    const created: Credential[] = [];
    for (const sample of Object.values(samples)) {
      const response = await api.post<Credential>('/credentials', sample);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      created.push(response.body);
    }
    expect(created.map((credential) => credential.storedSecrets)).toEqual([
      ['accessKeyId', 'secretAccessKey'],
      ['serviceAccountJson'],
      ['password'],
      ['privateKey'],
    ]);
    expect(created[0]).toMatchObject({ region: 'eu-central-1', accessKeyIdHint: '0001' });
    expect(created[1]).toMatchObject({
      project: 'fieldstation-test',
      clientEmail: 'deployer@fieldstation-test.iam.gserviceaccount.com',
    });
    expect(created[2]).toMatchObject({ domain: 'Default', projectName: 'iot' });
    expect(created[3]).toMatchObject({ host: '192.0.2.10', port: 22, auth: 'uploaded-key' });

    const list = await api.get<Credential[]>('/credentials');
    const one = await api.get<Credential>(`/credentials/${created[0]!.id}`);
    const filtered = await api.get<Credential[]>('/credentials?type=ssh-host');
    expect(filtered.body.map((credential) => credential.name)).toEqual(['pi-host']);
    const shown = JSON.stringify([list.body, one.body, created]);
    for (const secret of [...Object.values(SECRETS), 'PRIVATE KEY'])
      expect(shown).not.toContain(secret);
  });

  it('replaces a secret on update without revealing the old one, and keeps the type', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('update');
    const created = await api.post<Credential>('/credentials', samples.openstack);
    const updated = await api.patch<Credential>(`/credentials/${created.body.id}`, {
      password: 'a-new-openstack-password',
      region: 'RegionTwo',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      region: 'RegionTwo',
      username: 'ada',
      storedSecrets: ['password'],
    });
    expect(JSON.stringify(updated.body)).not.toContain('a-new-openstack-password');

    const typeChange = await api.patch<ErrorBody>(`/credentials/${created.body.id}`, {
      type: 'aws',
    });
    expect(typeChange.body.error.code).toBe('CREDENTIAL_TYPE_IMMUTABLE');

    const sessionId = await sessionOf(api);
    const dataKey = await app.get(SessionsService).dataKey(sessionId);
    const resolved = await app.get(CredentialsService).resolve(userId, created.body.id, dataKey);
    expect(resolved.secrets).toEqual({ password: 'a-new-openstack-password' });
  });

  it('explains invalid credentials field by field', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('invalid');
    const post = (body: unknown) => api.post<ErrorBody>('/credentials', body);

    expect((await post({ ...samples.aws, type: 'azure' })).body.error.message).toBe(
      'type must be one of aws, gcp, openstack, ssh-host, s3',
    );
    expect((await post({ ...samples.aws, name: 'Not A DNS Name' })).body.error.message).toMatch(
      /^name: name must be a DNS label/,
    );
    expect((await post({ ...samples.aws, extra: 1 })).body.error.message).toBe(
      'extra: property extra should not exist',
    );
    expect(
      (await post({ ...samples.gcp, serviceAccountJson: '{"type":"user"}' })).body.error,
    ).toMatchObject({
      code: 'INVALID_SERVICE_ACCOUNT',
    });
    expect(
      (await post({ ...samples.gcp, serviceAccountJson: 'not json' })).body.error.message,
    ).toBe('serviceAccountJson is not valid JSON');
    const { privateKey: _privateKey, ...withoutKey } = samples.sshHost;
    expect((await post(withoutKey)).body.error.code).toBe('PRIVATE_KEY_REQUIRED');
    expect((await post({ ...samples.sshHost, privateKey: 'garbage' })).body.error.code).toBe(
      'INVALID_PRIVATE_KEY',
    );
    const generated = await post({ ...withoutKey, auth: 'generated-key' });
    expect(generated.status).toBe(201);

    expect((await post(samples.aws)).status).toBe(201);
    const duplicate = await post(samples.aws);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('CREDENTIAL_NAME_TAKEN');
    expect((await api.get<Credential[]>('/credentials')).body).toHaveLength(2);
  });

  it('refuses link-local and cloud metadata hosts and auth URLs, naming the field', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('metadata');
    const refused = async (body: Record<string, unknown>, code: string, field: string) => {
      const response = await api.post<ErrorBody>('/credentials', body);
      expect(response.status, String(body[field])).toBe(400);
      expect(response.body.error).toMatchObject({ code, details: [{ field }] });
    };
    for (const host of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '[::ffff:a9fe:a9fe]'])
      await refused({ ...samples.sshHost, host }, 'HOST_NOT_ALLOWED', 'host');
    for (const authUrl of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]:5000/v3',
      'http://[fe80::1]:5000/v3',
    ])
      await refused({ ...samples.openstack, authUrl }, 'AUTH_URL_NOT_ALLOWED', 'authUrl');

    // This app allows loopback (as the test harness does) and private networks (the default).
    const host = await api.post<Credential>('/credentials', {
      ...samples.sshHost,
      host: '10.0.0.5',
    });
    expect(host.status).toBe(201);
    const moved = await api.patch<ErrorBody>(`/credentials/${host.body.id}`, {
      host: '169.254.170.2',
    });
    expect(moved.body.error.code).toBe('HOST_NOT_ALLOWED');
    expect((await api.get<Credential>(`/credentials/${host.body.id}`)).body.host).toBe('10.0.0.5');
    expect((await api.patch(`/credentials/${host.body.id}`, { host: '127.0.0.1' })).status).toBe(
      200,
    );
  });

  it("answers 404 for every one of another user's credentials", async () => {
    const alice = new ApiClient(baseUrl);
    const bob = new ApiClient(baseUrl);
    await alice.signUp('alice');
    await bob.signUp('bob');
    const secret = await alice.post<Credential>('/credentials', samples.aws);
    const id = secret.body.id;

    for (const response of [
      await bob.get<ErrorBody>(`/credentials/${id}`),
      await bob.patch<ErrorBody>(`/credentials/${id}`, { region: 'us-east-1' }),
      await bob.delete<ErrorBody>(`/credentials/${id}`),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('CREDENTIAL_NOT_FOUND');
    }
    expect((await bob.get<Credential[]>('/credentials')).body).toEqual([]);
    const aliceSessions = await alice.get<{ id: string }[]>('/auth/sessions');
    expect((await bob.delete(`/auth/sessions/${aliceSessions.body[0]!.id}`)).status).toBe(404);
    expect((await bob.get('/audit-events')).body).not.toContainEqual(
      expect.objectContaining({ type: 'credential_created' }),
    );

    expect((await alice.get<Credential>(`/credentials/${id}`)).body.region).toBe('eu-central-1');
    expect((await alice.delete(`/credentials/${id}`)).status).toBe(204);
    expect((await alice.get(`/credentials/${id}`)).status).toBe(404);
  });

  it('keeps no plaintext secret in the database files', async () => {
    const api = new ApiClient(baseUrl);
    const { password } = await api.signUp('scan');
    for (const sample of Object.values(samples))
      expect((await api.post('/credentials', sample)).status).toBe(201);
    const revealed = await api.post<{ privateKey: string }>('/auth/ssh-key/reveal', { password });

    const files = readdirSync(dataDir).filter((name) => name.startsWith('fieldstation.sqlite'));
    expect(files).toContain('fieldstation.sqlite');
    const bytes = Buffer.concat(files.map((name) => readFileSync(join(dataDir, name))));
    const markers = [
      ...Object.values(SECRETS),
      password,
      uploadedKey.split('\n')[1]!,
      revealed.body.privateKey.split('\n')[1]!,
      api.refreshToken!.split('.')[1]!,
    ];
    for (const marker of markers) {
      expect(bytes.includes(Buffer.from(marker)), `found "${marker.slice(0, 12)}…"`).toBe(false);
    }
  });

  it('keeps secrets readable after a password change; the old password stops working', async () => {
    const api = new ApiClient(baseUrl);
    const { email, password, userId } = await api.signUp('changer');
    const created = await api.post<Credential>('/credentials', samples.aws);
    const other = new ApiClient(baseUrl);
    await other.login(email, password);

    const weak = await api.post<ErrorBody>('/auth/password', {
      currentPassword: password,
      newPassword: 'short',
    });
    expect(weak.body.error).toMatchObject({
      code: 'WEAK_PASSWORD',
      details: { field: 'newPassword' },
    });
    const wrong = await api.post<ErrorBody>('/auth/password', {
      currentPassword: 'nope nope nope',
      newPassword: 'a brand new passphrase',
    });
    expect(wrong.status).toBe(403);

    const newPassword = 'a brand new passphrase';
    expect(
      (await api.post('/auth/password', { currentPassword: password, newPassword })).status,
    ).toBe(204);
    expect((await other.get('/auth/me')).status).toBe(401);
    expect((await new ApiClient(baseUrl).login(email, password)).status).toBe(401);

    const fresh = new ApiClient(baseUrl);
    expect((await fresh.login(email, newPassword)).status).toBe(200);
    const dataKey = await app.get(SessionsService).dataKey(await sessionOf(fresh));
    const resolved = await app.get(CredentialsService).resolve(userId, created.body.id, dataKey);
    expect(resolved.secrets).toEqual({
      accessKeyId: SECRETS.accessKeyId,
      secretAccessKey: SECRETS.secretAccessKey,
    });
  });

  it('lets background jobs use a session across a restart, until logout; grants expire', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('jobs');
    const created = await api.post<Credential>('/credentials', samples.aws);
    const sessionId = await sessionOf(api);

    await app.close();
    ({ app, baseUrl } = await startTestApp({ dataDir }));
    api.baseUrl = baseUrl;
    expect((await api.get('/auth/me')).status).toBe(200);

    const grants = app.get(DeploymentGrants);
    const deploymentId = '00000000-0000-4000-8000-000000000001';
    await grants.issue({ userId, sessionId }, deploymentId);
    const dataKey = await grants.open(deploymentId, userId);
    const resolved = await app.get(CredentialsService).resolve(userId, created.body.id, dataKey);
    expect(resolved.secrets.secretAccessKey).toBe(SECRETS.secretAccessKey);
    await expect(grants.open(deploymentId, 'someone-else')).rejects.toThrow(GrantUnavailableError);
    await grants.revoke(deploymentId);
    await expect(grants.open(deploymentId, userId)).rejects.toThrow(GrantUnavailableError);

    const shortLived = '00000000-0000-4000-8000-000000000002';
    await grants.issue({ userId, sessionId }, shortLived, 200);
    await waitFor(
      () =>
        grants.open(shortLived, userId).then(
          () => undefined,
          (error: Error) => error,
        ),
      {
        what: 'the grant to expire',
      },
    ).then((error) => expect(error.message).toMatch(/expired/));

    expect((await api.post('/auth/logout', { refreshToken: api.refreshToken })).status).toBe(204);
    await expect(grants.issue({ userId, sessionId }, deploymentId)).rejects.toThrow(
      /Session has ended/,
    );
  });

  async function sessionOf(api: ApiClient): Promise<string> {
    return (await app.get(Tokens).verifyAccessToken(api.accessToken!)).sessionId;
  }
});

describe('credential targets on a server that allows neither loopback nor private addresses', () => {
  const strict = { ALLOW_LOOPBACK_TARGETS: 'false', ALLOW_PRIVATE_TARGETS: 'false' };

  it('refuses them when stored, resolving names, and again before a job connects', async () => {
    const lenient = await startTestApp();
    const api = new ApiClient(lenient.baseUrl);
    const { userId } = await api.signUp('strict');
    const stored = await api.post<Credential>('/credentials', {
      ...samples.sshHost,
      name: 'stored-host',
      host: 'localhost',
    });
    expect(stored.status).toBe(201);
    await lenient.app.close();

    const { app, baseUrl } = await startTestApp({ dataDir: lenient.dataDir, env: strict });
    try {
      api.baseUrl = baseUrl;
      const post = (body: object) => api.post<ErrorBody>('/credentials', body);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ ...samples.sshHost, host: '127.0.0.1' }, 'HOST_NOT_ALLOWED', /^host is a loopback/],
        [{ ...samples.sshHost, host: '::1' }, 'HOST_NOT_ALLOWED', /^host is a loopback/],
        [
          { ...samples.sshHost, host: 'localhost' },
          'HOST_NOT_ALLOWED',
          /^host resolves to a loopback/,
        ],
        [{ ...samples.sshHost, host: '192.168.1.20' }, 'HOST_NOT_ALLOWED', /^host is a private/],
        [
          { ...samples.openstack, authUrl: 'http://localhost:5000/v3' },
          'AUTH_URL_NOT_ALLOWED',
          /^authUrl resolves to a loopback/,
        ],
        [
          { ...samples.openstack, authUrl: 'https://10.1.2.3:5000/v3' },
          'AUTH_URL_NOT_ALLOWED',
          /^authUrl is a private/,
        ],
      ];
      for (const [body, code, message] of cases) {
        const response = await post(body);
        expect(response.status, String(body.host ?? body.authUrl)).toBe(400);
        expect(response.body.error.code).toBe(code);
        expect(response.body.error.message).toMatch(message);
      }
      const publicHost = { ...samples.sshHost, name: 'public-host', host: '198.51.100.7' };
      expect((await post(publicHost)).status).toBe(201);

      const sessionId = (await app.get(Tokens).verifyAccessToken(api.accessToken!)).sessionId;
      const dataKey = await app.get(SessionsService).dataKey(sessionId);
      await expect(
        app.get(CredentialsService).resolve(userId, stored.body.id, dataKey),
      ).rejects.toMatchObject({ message: expect.stringMatching(/^host resolves to a loopback/) });
    } finally {
      await app.close();
    }
  });
});
