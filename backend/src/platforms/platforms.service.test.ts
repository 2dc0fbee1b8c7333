import { randomUUID } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SessionsService } from '../auth/sessions.service';
import { ApiError, type ApiErrorBody } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import type { CredentialsService } from '../credentials/credentials.service';
import { DataKey } from '../crypto/data-key';
import type { DeploymentStarter } from '../deployments/deployment-starter';
import { JobName } from '../jobs/job-names';
import type { PlatformHost } from '../provision/platform-host';
import type { SpacesService } from '../spaces/spaces.service';
import type { UsersService } from '../users/users.service';
import type { LaunchPlatformInput } from './dto/launch-platform.dto';
import { InMemoryPlatformRecords } from './in-memory-platform-records';
import type { NpmRegistry } from './npm-registry';
import { PlatformAccess } from './platform-access';
import { PlatformDevices } from './platform-devices';
import { PlatformLaunchHooks } from './launch-hooks';
import type { PlatformInfrastructure } from './platform-infrastructure';
import type { PlatformRecords } from './platform-records';
import type { RestoreUploads } from './platform-uploads';
import { PlatformsService } from './platforms.service';

/*
 * The fast tier: PlatformsService's request logic with its storage and clients swapped for
 * in-memory ones (records in a Map, the npm registry a fixed answer, the deployment starter a
 * recorder). No PostgreSQL, Redis or HTTP: runs in well under a second. The HTTP tier
 * (platforms.http.test.ts) checks the same service wired to the real pieces.
 */

const as = <T>(value: unknown) => value as T;

/** The status and code of the ApiError a call rejects with. */
async function rejection(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  const body = (error as ApiError).getResponse() as ApiErrorBody;
  return { status: (error as ApiError).getStatus(), code: body.error.code };
}

describe('PlatformsService (in-memory)', () => {
  const auth = { userId: randomUUID(), sessionId: randomUUID() };
  const dataKey = DataKey.generate();
  const credentials: Record<string, { id: string; type: string; name: string; host?: string }> = {
    'cred-ssh': { id: 'cred-ssh', type: 'ssh-host', name: 'my host', host: '203.0.113.7' },
    'cred-ssh-2': { id: 'cred-ssh-2', type: 'ssh-host', name: 'other host', host: '203.0.113.8' },
    'cred-aws': { id: 'cred-aws', type: 'aws', name: 'my aws' },
  };
  let records: InMemoryPlatformRecords;
  let started: { target: { kind: string; id: string }; action: string; job: JobName }[];
  let service: PlatformsService;
  /** The device registry (devices/, above platforms) as sealed passwords in a Map. */
  let enrolled: Map<string, { name: string; sealed: string }[]>;

  beforeEach(() => {
    records = new InMemoryPlatformRecords();
    started = [];
    enrolled = new Map();
    const devices = new PlatformDevices();
    devices.register({
      enrollAtLaunch: async (platform, names, key) => {
        const sealed = names.map((name) => ({
          name,
          sealed: key.sealField(platform.id, `device:${name}`, `password-of-${name}`),
        }));
        enrolled.set(platform.id, sealed);
      },
      activeDeviceUsers: async (platform, key) =>
        (enrolled.get(platform.id) ?? []).map(({ name, sealed }) => ({
          name,
          password: key.openField(platform.id, `device:${name}`, sealed),
        })),
      activeDeviceLogins: async (platform) =>
        (enrolled.get(platform.id) ?? []).map(({ name }) => ({ name, passwordRevealed: false })),
      revokedCertificates: async () => [],
    });
    const credentialsService = as<CredentialsService>({
      get: async (_userId: string, id: string) => {
        const credential = credentials[id];
        if (!credential) throw new ApiError(HttpStatus.NOT_FOUND, 'CREDENTIAL_NOT_FOUND', 'No');
        return credential;
      },
      list: async (_userId: string, type?: string) =>
        Object.values(credentials).filter((credential) => !type || credential.type === type),
      resolve: async () => ({
        fields: { host: '203.0.113.7', port: 2222, username: 'pi', auth: 'generated-key' },
        secrets: {},
      }),
    });
    const starter = as<DeploymentStarter>({
      assertIdle: async () => undefined,
      start: async (
        _auth: unknown,
        target: { kind: string; id: string },
        action: string,
        job: JobName,
        prepare?: (deploymentId: string) => Promise<void>,
      ) => {
        started.push({ target, action, job });
        await prepare?.(`deployment-${started.length}`);
        return `deployment-${started.length}`;
      },
    });
    service = new PlatformsService(
      as<PlatformRecords>(records),
      credentialsService,
      as<SpacesService>({}),
      as<SessionsService>({ dataKey: async () => dataKey }),
      starter,
      as<NpmRegistry>({ check: async () => ['Could not check left-pad@1.3.0: ETIMEDOUT'] }),
      as<PlatformInfrastructure>({ validate: async () => undefined }),
      new PlatformAccess(
        credentialsService,
        as<UsersService>({ findById: async () => ({}), sshPrivateKey: () => 'key' }),
        devices,
        as<AppConfig>({}),
      ),
      as<PlatformHost>({}),
      as<RestoreUploads>({}),
      devices,
      new PlatformLaunchHooks(),
    );
  });

  const sshHost = (name = 'plant'): LaunchPlatformInput =>
    as<LaunchPlatformInput>({ name, target: 'ssh-host', credentialId: 'cred-ssh' });

  it('launches with the secure defaults and queues the launch job', async () => {
    const { platform, deploymentId, warnings } = await service.launch(auth, sshHost());

    expect(deploymentId).toBe('deployment-1');
    expect(warnings).toEqual(['Could not check left-pad@1.3.0: ETIMEDOUT']);
    expect(started).toEqual([
      {
        target: { kind: 'platform', id: platform.id },
        action: 'launch',
        job: JobName.PlatformLaunch,
      },
    ]);
    const stored = await records.getOwned(auth.userId, platform.id);
    expect(stored).toMatchObject({ status: 'queued', tls: true, deviceUsers: ['device-1'] });
    expect(stored.ports).toMatchObject({ mqtt: null, mqtts: 8883, amqp: null, amqps: 5671 });
    // The launch's devices go to the device registry, sealed there; the connection answer names
    // them without a password (the registry reveals a launch password once).
    expect(enrolled.get(platform.id)?.map(({ name }) => name)).toEqual(['device-1']);
    const connection = await service.connection(auth, platform.id);
    expect(connection.devices).toEqual([{ username: 'device-1', passwordRevealed: false }]);
    expect(Object.keys(stored.secrets).filter((field) => field.startsWith('device:'))).toEqual([]);
  });

  it('refuses a credential of another target, storing and queuing nothing', async () => {
    const input = { ...sshHost(), credentialId: 'cred-aws' };
    const error = await rejection(service.launch(auth, input));
    expect(error.status).toBe(400);
    expect(error.code).toBe('CREDENTIAL_TARGET_MISMATCH');
    expect(await records.listOwned(auth.userId)).toEqual([]);
    expect(started).toEqual([]);
  });

  it('asks for a space on AWS', async () => {
    const input = as<LaunchPlatformInput>({ name: 'p', target: 'aws', credentialId: 'cred-aws' });
    expect((await rejection(service.launch(auth, input))).code).toBe('SPACE_REQUIRED');
  });

  it('answers 409 for a name the user already has, queuing one launch only', async () => {
    await service.launch(auth, sshHost('same'));
    const error = await rejection(service.launch(auth, sshHost('same')));
    expect(error.status).toBe(409);
    expect(error.code).toBe('PLATFORM_NAME_TAKEN');
    expect(started).toHaveLength(1);
  });

  it('retries a failed platform with the job of its failed step', async () => {
    const { platform } = await service.launch(auth, sshHost());
    records.put({ ...platform, status: 'failed', failedStep: 'updating' });
    await service.retry(auth, platform.id);
    records.put({ ...platform, status: 'failed', failedStep: 'configuring' });
    await service.retry(auth, platform.id);
    expect(started.slice(1).map(({ action, job }) => [action, job])).toEqual([
      ['update-processor', JobName.PlatformUpdateProcessor],
      ['launch', JobName.PlatformLaunch],
    ]);
  });

  it('stores a new script on a failed launch and resumes the launch at configuring at the latest', async () => {
    const { platform } = await service.launch(auth, sshHost());
    for (const [failedStep, resumesAt] of [
      ['configuring', 'configuring'],
      ['verifying', 'configuring'],
      ['waiting_for_host', 'waiting_for_host'],
    ] as const) {
      records.put({ ...platform, status: 'failed', failedStep });
      const script = `export default (reading) => reading; // after ${failedStep}`;
      const { deploymentId } = await service.updateProcessor(auth, platform.id, { script });
      expect(deploymentId).toBe(`deployment-${started.length}`);
      expect(started.at(-1)).toMatchObject({ action: 'launch', job: JobName.PlatformLaunch });
      expect(await records.getById(platform.id)).toMatchObject({
        status: 'failed',
        failedStep: resumesAt,
        processorScript: script,
        previousProcessorScript: null,
      });
    }
    // Failed at updating: the running stack gets the update, as from running.
    records.put({ ...platform, status: 'failed', failedStep: 'updating' });
    await service.updateProcessor(auth, platform.id, { script: 'export default (r) => r;' });
    expect(started.at(-1)).toMatchObject({ action: 'update-processor' });
  });

  it('refuses a new script while launching, destroying, destroyed or failed at destroying', async () => {
    const { platform } = await service.launch(auth, sshHost());
    const script = 'export default (reading) => reading;';
    const states = [
      { status: 'queued', failedStep: null },
      { status: 'configuring', failedStep: null },
      { status: 'destroying', failedStep: null },
      { status: 'destroyed', failedStep: null },
      { status: 'failed', failedStep: 'destroying' },
    ] as const;
    const count = started.length;
    for (const state of states) {
      records.put({ ...platform, ...state });
      const error = await rejection(service.updateProcessor(auth, platform.id, { script }));
      expect([state.status, error.status, error.code]).toEqual([
        state.status,
        409,
        'ILLEGAL_TRANSITION',
      ]);
      expect((await records.getById(platform.id)).processorScript).toBe(platform.processorScript);
    }
    expect(started).toHaveLength(count);
  });

  it('refuses to destroy a platform that is already being destroyed', async () => {
    const { platform } = await service.launch(auth, sshHost());
    await records.moveTo(platform.id, 'destroying');
    const error = await rejection(service.destroy(auth, platform.id, { removeData: true }));
    expect(error.code).toBe('ILLEGAL_TRANSITION');
    expect((await records.getById(platform.id)).removeDataOnDestroy).toBe(false);
  });

  it("answers 404 for another user's platform", async () => {
    const { platform } = await service.launch(auth, sshHost());
    const other = { userId: randomUUID(), sessionId: randomUUID() };
    expect((await rejection(service.get(other.userId, platform.id))).code).toBe(
      'PLATFORM_NOT_FOUND',
    );
  });

  it('shows the Grafana password once', async () => {
    const { platform } = await service.launch(auth, sshHost());
    const password = await service.revealGrafanaPassword(auth, platform.id);
    expect(password.length).toBeGreaterThanOrEqual(20);
    const error = await rejection(service.revealGrafanaPassword(auth, platform.id));
    expect(error.code).toBe('ALREADY_REVEALED');
  });

  it('offers Grafana over HTTPS with TLS, and through an SSH tunnel to the loopback without', async () => {
    const grafanaOf = async (tls: boolean, name: string) => {
      // Another host for the second: both publish Grafana on 3000.
      const credentialId = tls ? 'cred-ssh' : 'cred-ssh-2';
      const { platform } = await service.launch(auth, { ...sshHost(name), credentialId, tls });
      await records.save(platform.id, { address: '203.0.113.7' });
      const { grafanaUrl, grafanaTunnel } = await service.connection(auth, platform.id);
      return { grafanaUrl, grafanaTunnel };
    };
    expect(await grafanaOf(true, 'secure')).toEqual({
      grafanaUrl: 'https://203.0.113.7:3000',
      grafanaTunnel: null,
    });
    expect(await grafanaOf(false, 'plain')).toEqual({
      grafanaUrl: 'http://127.0.0.1:3000',
      grafanaTunnel: 'ssh -N -L 3000:127.0.0.1:3000 -p 2222 pi@203.0.113.7',
    });
  });
});
