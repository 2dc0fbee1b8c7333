import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { expect } from 'vitest';
import { PlatformProbe } from '../src/provision/testing/platform-probes';
import { testDockerHost, testImages } from '../src/provision/testing/test-ssh-host';
import { ApiClient } from './api-client';
import { startTestApp } from './http-app';
import { waitFor } from './test-env';

type Accepted = { platform: { id: string }; deploymentId: string };
type Deployment = { status: string; error: string | null };

/** A platform launched through the API on the local test SSH host: one per test file. */
export interface LaunchedPlatform {
  app: INestApplication;
  api: ApiClient;
  platformId: string;
  /** `/platforms/<id>/devices` */
  devices: string;
  probe: PlatformProbe;
}

/** Waits until a deployment has ended and answers it (succeeded or failed). */
export function deploymentEnd(
  api: ApiClient,
  deploymentId: string,
  timeoutMs: number,
  what: string,
): Promise<Deployment> {
  return waitFor(
    async () => {
      const { body } = await api.get<Deployment>(`/deployments/${deploymentId}`);
      return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 1_000, what },
  );
}

/**
 * Starts the app with the test images shipped offline, signs `user` up, stores the test SSH host
 * as a credential and launches `platform` (the POST /platforms body without target and
 * credential) on it; the launch must succeed.
 */
export async function launchOnTestHost(
  user: string,
  platform: Record<string, unknown>,
  dockerHost = testDockerHost(),
): Promise<LaunchedPlatform> {
  const { launched, deploymentId } = await startLaunchOnTestHost(user, platform, dockerHost);
  try {
    const deployment = await deploymentEnd(
      launched.api,
      deploymentId,
      900_000,
      'the platform launch',
    );
    expect(deployment, `the launch failed: ${deployment.error}`).toMatchObject({
      status: 'succeeded',
    });
    return launched;
  } catch (error) {
    // A failed launch leaves nothing behind on the test host, as a test's afterAll would.
    await destroyLaunched(launched);
    throw error;
  }
}

/**
 * The same up to the launch's 202: answers the platform and its launch deployment, running.
 * The caller destroys it ({@link destroyLaunched}) whatever the launch's outcome. `dockerHost`:
 * the Docker daemon the platform runs in (a test that restarts it brings its own).
 */
export async function startLaunchOnTestHost(
  user: string,
  platform: Record<string, unknown>,
  dockerHost = testDockerHost(),
): Promise<{ launched: LaunchedPlatform; deploymentId: string }> {
  const { archive, images } = testImages();
  const started = await startTestApp({
    env: {
      IMAGE_SUPPLY: 'offline',
      IMAGE_ARCHIVES: archive,
      STACK_IMAGES: JSON.stringify(images),
      HOST_DOCKER_HOST: dockerHost,
      HOST_MANAGE_DOCKER_SERVICE: 'false',
    },
  });
  const api = new ApiClient(started.baseUrl);
  try {
    await api.signUp(user);
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'test-host',
      host: process.env.FS_TEST_SSH_HOST,
      port: Number(process.env.FS_TEST_SSH_PORT),
      username: process.env.FS_TEST_SSH_USER,
      auth: 'uploaded-key',
      privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
    });
    expect(credential.status).toBe(201);
    const accepted = await api.post<Accepted>('/platforms', {
      ...platform,
      target: 'ssh-host',
      credentialId: credential.body.id,
    });
    expect(accepted.status).toBe(202);
    const platformId = accepted.body.platform.id;
    const launched = {
      app: started.app,
      api,
      platformId,
      devices: `/platforms/${platformId}/devices`,
      probe: new PlatformProbe(dockerHost, `fieldstation-${platformId}`),
    };
    return { launched, deploymentId: accepted.body.deploymentId };
  } catch (error) {
    await started.app.close();
    throw error;
  }
}

/** Destroys the platform with its data (waiting for the teardown) and closes the app. */
export async function destroyLaunched(launched: LaunchedPlatform | undefined): Promise<void> {
  if (!launched) return;
  const { api, platformId, app } = launched;
  const destroyed = await api.delete<{ deploymentId: string }>(`/platforms/${platformId}`, {
    removeData: true,
  });
  await deploymentEnd(api, destroyed.body.deploymentId, 300_000, 'the platform teardown');
  await app.close();
}
