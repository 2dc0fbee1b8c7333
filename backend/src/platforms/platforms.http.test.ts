import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient,
  finishedDeployment,
  sshHostCredential,
  type DeploymentState,
  type ErrorBody,
} from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID, fakePemPrivateKey } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';
import type { AppConfig } from '../config/app-config';
import { NpmRegistry } from './npm-registry';

type Platform = {
  id: string;
  name: string;
  status: string;
  failedStep: string | null;
  address: string | null;
  ports: Record<string, number | null>;
};
type Accepted = { platform: Platform; deploymentId: string; warnings: string[] };

const AWS_SECRET = 'aws-secret-MARKER-5d1e0a9b77c3';
const GCP_SECRET = 'gcp-private-MARKER-a81c2e93f0';
const OPENSTACK_SECRET = 'openstack-MARKER-pw-3c9e71d2';

async function logText(api: ApiClient, deploymentId: string): Promise<string> {
  const response = await fetch(`${api.baseUrl}/api/v1/deployments/${deploymentId}/events`, {
    headers: { authorization: `Bearer ${api.accessToken}` },
  });
  return response.text();
}

describe('Platforms API', () => {
  let app: INestApplication;
  let baseUrl: string;
  let dataDir: string;
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freeLoopbackPort();
    ({ app, baseUrl, dataDir } = await startTestApp({
      env: {
        TERRAFORM_BIN: resolve(__dirname, '../../test/fixtures/cloud-test-double-tofu.mjs'),
        SSH_WAIT_SECONDS: '2',
      },
    }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('checks a launch at the edge: fields, credential type, npm packages, names, owners', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('launcher');
    const credentialId = await sshHostCredential(api, closedPort);
    const launch = (body: object) => api.post<ErrorBody & Accepted>('/platforms', body);
    const base = { name: 'greenhouse', target: 'ssh-host', credentialId };

    const bad = await launch({ ...base, name: 'Green House', extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(bad.body.error.details)).toMatch(/"field":"name"/);

    const aws = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws',
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET,
    });
    const mismatch = await launch({ ...base, credentialId: aws.body.id });
    expect(mismatch.body.error.code).toBe('CREDENTIAL_TARGET_MISMATCH');
    expect(
      (await launch({ ...base, target: 'aws', credentialId: aws.body.id })).body.error.code,
    ).toBe('SPACE_REQUIRED');

    const unknown = await launch({
      ...base,
      processor: { packages: { 'fieldstation-no-such-package-4f1c': '1.0.0' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: 'UNKNOWN_PACKAGE',
      message: 'fieldstation-no-such-package-4f1c@1.0.0 is not in the npm registry',
    });
    const ranged = await launch({ ...base, processor: { packages: { ms: '^2.1.3' } } });
    expect(ranged.body.error.code).toBe('INVALID_PACKAGE');

    const accepted = await launch({ ...base, processor: { packages: { ms: '2.1.3' } } });
    expect(accepted.status).toBe(202);
    expect(accepted.body.platform).toMatchObject({ name: 'greenhouse', status: 'queued' });
    // TLS for devices unless the launch turns it off.
    expect(accepted.body.platform).toMatchObject({
      tls: true,
      ports: { amqp: null, amqps: 5671, mqtt: null, mqtts: 8883 },
    });
    expect(accepted.body.warnings).toEqual([]);
    // The web UI's placeholders: the ports a launch stores when the request names none.
    const defaults = await api.get<{ portsWithTls: object; portsWithoutTls: object }>(
      '/platforms/launch-defaults',
    );
    expect(defaults.body).toEqual({
      portsWithTls: accepted.body.platform.ports,
      portsWithoutTls: {
        amqp: 5672,
        amqps: null,
        mqtt: 1883,
        mqtts: null,
        rabbitmqManagement: 15672,
        grafana: 3000,
      },
    });
    expect(JSON.stringify(accepted.body)).not.toMatch(/password|secret/i);

    const again = await launch(base);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PLATFORM_NAME_TAKEN');

    const other = new ApiClient(baseUrl);
    await other.signUp('other');
    const id = accepted.body.platform.id;
    for (const path of [
      `/platforms/${id}`,
      `/platforms/${id}/connection`,
      `/deployments/${accepted.body.deploymentId}`,
    ]) {
      expect((await other.get<ErrorBody>(path)).status).toBe(404);
    }
    expect((await other.delete<ErrorBody>(`/platforms/${id}`)).status).toBe(404);
    expect((await other.get<Platform[]>('/platforms')).body).toEqual([]);
    await finishedDeployment(api, accepted.body.deploymentId);
    const connection = await api.get<{ grafanaUrl: string; mqttUrl: string }>(
      `/platforms/${id}/connection`,
    );
    expect(connection.body).toMatchObject({
      grafanaUrl: 'https://127.0.0.1:3000',
      mqttUrl: 'mqtts://127.0.0.1:8883',
    });
  });

  it('warns instead of failing when the npm registry cannot be reached', async () => {
    const registry = new NpmRegistry({
      npmRegistryUrl: `http://127.0.0.1:${closedPort}`,
    } as AppConfig);
    const warnings = await registry.check({ ms: '2.1.3' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Could not check ms@2\.1\.3 with the npm registry: ECONNREFUSED/);
  });

  it('fails an unreachable host at waiting_for_host, retries there, and destroys what exists', async () => {
    const api = new ApiClient(baseUrl);
    const { password } = await api.signUp('unlucky');
    const credentialId = await sshHostCredential(api, closedPort);
    const launched = await api.post<Accepted>('/platforms', {
      name: 'cellar',
      target: 'ssh-host',
      credentialId,
    });
    const failed = await finishedDeployment(api, launched.body.deploymentId);
    expect(failed.status).toBe('failed');
    expect(failed.step).toBe('waiting_for_host');
    expect(failed.error).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${closedPort} unreachable after \\d+ s`),
    );
    const platform = (await api.get<Platform>(`/platforms/${launched.body.platform.id}`)).body;
    expect(platform).toMatchObject({ status: 'failed', failedStep: 'waiting_for_host' });
    const log = await logText(api, launched.body.deploymentId);
    expect(log).toContain('Step waiting_for_host started');

    // A failed launch takes a new script: stored, it resumes the launch at the failed step.
    const script = 'export default (r) => r;';
    const update = await api.post<{ deploymentId: string }>(`/platforms/${platform.id}/processor`, {
      script,
    });
    expect(update.status).toBe(202);
    const resumed = await finishedDeployment(api, update.body.deploymentId);
    expect(resumed).toMatchObject({ status: 'failed', step: 'waiting_for_host' });
    const processor = await api.get<{ script: string }>(`/platforms/${platform.id}/processor`);
    expect(processor.body.script).toBe(script);

    // Illegal moves answer 409; a failed platform can be retried or destroyed.
    expect((await api.post<ErrorBody>(`/platforms/${platform.id}/dump`)).body.error.code).toBe(
      'PLATFORM_NOT_RUNNING',
    );
    const retried = await api.post<{ deploymentId: string }>(`/platforms/${platform.id}/retry`);
    expect(retried.status).toBe(202);
    const second = await finishedDeployment(api, retried.body.deploymentId);
    expect(second).toMatchObject({ status: 'failed', step: 'waiting_for_host' });
    expect(await logText(api, retried.body.deploymentId)).not.toContain('Step configuring');

    // The account cannot go while a platform may still hold a machine.
    const leaving = await api.delete<ErrorBody>('/auth/account', { password });
    expect(leaving.status).toBe(409);
    expect(leaving.body.error.code).toBe('ACCOUNT_HAS_RESOURCES');

    // Only a destroyed platform can be removed from the list.
    const early = await api.post<ErrorBody>(`/platforms/${platform.id}/remove`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('NOT_DESTROYED');
    const destroyed = await api.delete<{ deploymentId: string }>(`/platforms/${platform.id}`);
    expect(destroyed.status).toBe(202);
    expect((await finishedDeployment(api, destroyed.body.deploymentId)).status).toBe('succeeded');
    expect((await api.get<Platform>(`/platforms/${platform.id}`)).body.status).toBe('destroyed');
    // It stays listed, with its log, until removed; removing forgets it and its deployments.
    const listed = (await api.get<Platform[]>('/platforms')).body;
    expect(listed.map((item) => [item.id, item.status])).toEqual([[platform.id, 'destroyed']]);
    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival');
    expect((await rival.post<ErrorBody>(`/platforms/${platform.id}/remove`)).status).toBe(404);
    expect((await api.post(`/platforms/${platform.id}/remove`)).status).toBe(204);
    expect((await api.get<Platform[]>('/platforms')).body).toEqual([]);
    expect((await api.get(`/platforms/${platform.id}`)).status).toBe(404);
    expect((await api.get(`/deployments/${destroyed.body.deploymentId}`)).status).toBe(404);
    expect((await api.get(`/deployments/${launched.body.deploymentId}`)).status).toBe(404);
    // The name is free again once destroyed.
    const relaunch = await api.post<Accepted>('/platforms', {
      name: 'cellar',
      target: 'ssh-host',
      credentialId,
    });
    expect(relaunch.status).toBe(202);
    const cancel = await api.post<DeploymentState>(
      `/deployments/${relaunch.body.deploymentId}/cancel`,
    );
    expect(cancel.status).toBe(202);
    expect((await finishedDeployment(api, relaunch.body.deploymentId)).status).toBe('cancelled');
  });

  it('runs AWS and GCP launches up to the host with a TEST DOUBLE of the cloud step', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('cloudy');
    const aws = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws',
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET,
    });
    const badSpace = await api.post<ErrorBody>('/spaces', {
      name: 'lab',
      target: 'aws',
      credentialId: aws.body.id,
      options: { region: 'Mars' },
    });
    expect(badSpace.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(badSpace.body.error.message).toMatch(/^options\.region: must be an AWS region/);

    const space = await api.post<{ space: { id: string }; deploymentId: string }>('/spaces', {
      name: 'lab',
      target: 'aws',
      credentialId: aws.body.id,
      options: { region: 'eu-west-1' },
    });
    expect(space.status).toBe(202);
    expect((await finishedDeployment(api, space.body.deploymentId)).status).toBe('succeeded');
    const ready = await api.get<{ status: string; outputs: Record<string, string> }>(
      `/spaces/${space.body.space.id}`,
    );
    expect(ready.body).toMatchObject({ status: 'ready', outputs: { vpcId: 'fake-vpc-id' } });

    const launched = await api.post<Accepted>('/platforms', {
      name: 'orchard',
      target: 'aws',
      credentialId: aws.body.id,
      spaceId: space.body.space.id,
      options: { instanceType: 't3.micro' },
    });
    expect(launched.body).toMatchObject({ platform: { status: 'queued' } });
    const failed = await finishedDeployment(api, launched.body.deploymentId);
    // The double "created" the VM at 127.0.0.1, where no SSH server answers on port 22.
    expect(failed).toMatchObject({ status: 'failed', step: 'waiting_for_host' });
    expect(failed.error).toMatch(/127\.0\.0\.1:22 unreachable/);
    const log = await logText(api, launched.body.deploymentId);
    expect(log).toContain('aws_instance.');
    expect(log).toContain("The VM's address is 127.0.0.1");
    expect(log).not.toContain(AWS_SECRET);

    const workDir = join(dataDir, 'stacks', userId, 'platform', launched.body.platform.id);
    const synthesized = readFileSync(join(workDir, 'cdk.tf.json'), 'utf8');
    expect(synthesized).toContain('"instance_type": "t3.micro"');
    expect(synthesized).not.toContain(AWS_SECRET);
    expect(synthesized).not.toContain(FAKE_AWS_ACCESS_KEY_ID);
    const calls = readFileSync(join(workDir, 'test-double-calls.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { command: string; credentialNames: string[] });
    expect(calls.map((call) => call.command)).toEqual(['init', 'apply', 'output']);
    expect(calls[1]!.credentialNames).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

    const inUse = await api.delete<ErrorBody>(`/spaces/${space.body.space.id}`);
    expect(inUse.body.error.code).toBe('SPACE_IN_USE');
    const destroyed = await api.delete<{ deploymentId: string }>(
      `/platforms/${launched.body.platform.id}`,
    );
    expect((await finishedDeployment(api, destroyed.body.deploymentId)).status).toBe('succeeded');
    expect(await logText(api, destroyed.body.deploymentId)).toContain('aws_instance.');
    const deleted = await api.delete<{ deploymentId: string }>(`/spaces/${space.body.space.id}`);
    expect((await finishedDeployment(api, deleted.body.deploymentId)).status).toBe('succeeded');
    expect((await api.get<{ status: string }>(`/spaces/${space.body.space.id}`)).body.status).toBe(
      'deleted',
    );

    const gcp = await api.post<{ id: string }>('/credentials', {
      type: 'gcp',
      name: 'gcp',
      serviceAccountJson: JSON.stringify({
        type: 'service_account',
        project_id: 'fieldstation-test',
        private_key_id: 'k1',
        private_key: fakePemPrivateKey(GCP_SECRET),
        client_email: 'deployer@fieldstation-test.iam.gserviceaccount.com',
      }),
    });
    const gcpLaunch = await api.post<Accepted>('/platforms', {
      name: 'meadow',
      target: 'gcp',
      credentialId: gcp.body.id,
      options: { region: 'europe-west1' },
    });
    expect(gcpLaunch.status).toBe(202);
    const gcpFailed = await finishedDeployment(api, gcpLaunch.body.deploymentId);
    expect(gcpFailed).toMatchObject({ status: 'failed', step: 'waiting_for_host' });
    const gcpDir = join(dataDir, 'stacks', userId, 'platform', gcpLaunch.body.platform.id);
    expect(readFileSync(join(gcpDir, 'cdk.tf.json'), 'utf8')).not.toContain(GCP_SECRET);
    expect(readFileSync(join(gcpDir, 'test-double-calls.jsonl'), 'utf8')).toContain(
      '"credentialNames":["GOOGLE_CREDENTIALS"]',
    );
  });

  it('runs an OpenStack space and platform through the same TEST DOUBLE of the cloud step', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('stacker');
    const openstack = await api.post<{ id: string }>('/credentials', {
      type: 'openstack',
      name: 'os',
      authUrl: 'https://keystone.example.org:5000/v3',
      username: 'ada',
      password: OPENSTACK_SECRET,
      projectName: 'iot',
    });
    const space = await api.post<{ space: { id: string }; deploymentId: string }>('/spaces', {
      name: 'campus',
      target: 'openstack',
      credentialId: openstack.body.id,
      options: {
        mode: 'existing',
        externalPool: 'public',
        networkName: 'iot-net',
        securityGroupName: 'iot-sg',
      },
    });
    expect((await finishedDeployment(api, space.body.deploymentId)).status).toBe('succeeded');
    const missing = await api.post<ErrorBody>('/platforms', {
      name: 'lab',
      target: 'openstack',
      credentialId: openstack.body.id,
      spaceId: space.body.space.id,
    });
    expect(missing.body.error.message).toMatch(/^options\.flavorName: /);
    // OpenTofu would evaluate this inside the synthesized JSON and read the server key.
    const injected = await api.post<ErrorBody>('/platforms', {
      name: 'lab',
      target: 'openstack',
      credentialId: openstack.body.id,
      spaceId: space.body.space.id,
      options: { flavorName: 'm1.small', imageName: '${file("../../../../server.key")}' },
    });
    expect(injected.status).toBe(400);
    expect(injected.body.error.message).toMatch(/^options\.imageName: must be an image name/);
    const launched = await api.post<Accepted>('/platforms', {
      name: 'lab',
      target: 'openstack',
      credentialId: openstack.body.id,
      spaceId: space.body.space.id,
      options: { flavorName: 'm1.small', imageName: 'Ubuntu 24.04' },
    });
    expect(await finishedDeployment(api, launched.body.deploymentId)).toMatchObject({
      status: 'failed',
      step: 'waiting_for_host',
    });
    const workDir = join(dataDir, 'stacks', userId, 'platform', launched.body.platform.id);
    expect(readFileSync(join(workDir, 'cdk.tf.json'), 'utf8')).not.toContain(OPENSTACK_SECRET);
    expect(readFileSync(join(workDir, 'test-double-calls.jsonl'), 'utf8')).toContain(
      '"OS_AUTH_URL","OS_PASSWORD","OS_PROJECT_DOMAIN_NAME","OS_PROJECT_NAME","OS_USERNAME","OS_USER_DOMAIN_NAME"',
    );
    const credentialInUse = async () => {
      const response = await api.delete<ErrorBody>(`/credentials/${openstack.body.id}`);
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('CREDENTIAL_IN_USE');
      return response.body.error.details;
    };
    expect(await credentialInUse()).toEqual({ platforms: ['lab'], spaces: ['campus'] });
    const destroyed = await api.delete<{ deploymentId: string }>(
      `/platforms/${launched.body.platform.id}`,
    );
    expect((await finishedDeployment(api, destroyed.body.deploymentId)).status).toBe('succeeded');
    expect(await credentialInUse()).toEqual({ spaces: ['campus'] });
    const deleted = await api.delete<{ deploymentId: string }>(`/spaces/${space.body.space.id}`);
    expect((await finishedDeployment(api, deleted.body.deploymentId)).status).toBe('succeeded');
    expect((await api.delete(`/credentials/${openstack.body.id}`)).status).toBe(204);
  });
});
