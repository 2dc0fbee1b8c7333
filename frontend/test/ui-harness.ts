import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = join(ROOT, 'test-results/ui');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The built app as users run it: backend/dist/main.js serving frontend/dist on one port, with
 * its own queue prefix on the shared test Redis. Its output goes to test-results/ui/<name>.log.
 */
export async function startBuiltApp(
  extraEnv: Record<string, string> = {},
  name = 'app',
): Promise<{ baseUrl: string; logFile: string; stop: () => Promise<void> }> {
  const redisUrl = process.env.FS_TEST_REDIS_URL;
  if (!redisUrl)
    throw new Error(
      'FS_TEST_REDIS_URL is not set: run the tests with `npm run test:ui` or `npm test`',
    );
  const port = await freePort();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const logFile = join(SCREENSHOTS, `${name}.log`);
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldstation-ui-'));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'backend/dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      DATA_DIR: dataDir,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: `fs-ui-${randomUUID()}`,
      // The test SSH host listens on loopback.
      ALLOW_LOOPBACK_TARGETS: 'true',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Generous: the shared test machine may be busy with other suites.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`${baseUrl}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`the app did not start (see ${logFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    baseUrl,
    logFile,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags that keep it off the (closed) network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Collects console errors and uncaught page errors, which a test expects to stay empty.
 * Chromium's own "Failed to load resource" lines are left out: they echo HTTP 4xx answers
 * that the app handles and shows next to the field they belong to.
 */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(text)) {
      problems.push(text);
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * What the app needs to launch a platform on the local test SSH host: the stand-in images of
 * scripts/build-test-images.sh shipped offline, and the private dockerd of the test services.
 */
export function testHostEnv(): Record<string, string> {
  const dockerHost = process.env.FS_TEST_DOCKER_HOST;
  if (!dockerHost || !process.env.FS_TEST_SSH_KEY_FILE) {
    throw new Error(
      'the test SSH host and dockerd are not running: run the tests with `npm run test:ui` or `npm test`',
    );
  }
  let exported: Record<string, string | undefined> = process.env;
  if (!process.env.FS_TEST_IMAGES_TAR) {
    const output = execFileSync(join(ROOT, 'scripts/build-test-images.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exported = Object.fromEntries(
      [...output.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1]!, match[2]]),
    );
  }
  const images: Record<string, string> = {};
  for (const image of ['rabbitmq', 'postgres', 'influxdb', 'grafana', 'node']) {
    const tag = exported[`FS_TEST_IMAGE_${image.toUpperCase()}`];
    if (!tag) throw new Error(`scripts/build-test-images.sh printed no image for ${image}`);
    images[image] = tag;
  }
  return {
    IMAGE_SUPPLY: 'offline',
    IMAGE_ARCHIVES: exported.FS_TEST_IMAGES_TAR!,
    STACK_IMAGES: JSON.stringify(images),
    HOST_DOCKER_HOST: dockerHost,
    HOST_MANAGE_DOCKER_SERVICE: 'false',
  };
}

/**
 * Removes what a platform left on the test dockerd (containers, networks, volumes of its compose
 * project) when a test stopped before destroying it, so a failed run does not keep a stack going.
 */
export function removeLeftoverStack(platformId: string): void {
  const env = { ...process.env, DOCKER_HOST: process.env.FS_TEST_DOCKER_HOST };
  const filter = `label=com.docker.compose.project=fieldstation-${platformId}`;
  const list = (kind: string[]) =>
    execFileSync('docker', [...kind, '--filter', filter], { env, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  const containers = list(['ps', '-aq']);
  if (containers.length) execFileSync('docker', ['rm', '-f', ...containers], { env });
  const networks = list(['network', 'ls', '-q']);
  if (networks.length) execFileSync('docker', ['network', 'rm', ...networks], { env });
  const volumes = list(['volume', 'ls', '-q']);
  if (volumes.length) execFileSync('docker', ['volume', 'rm', ...volumes], { env });
  const image = `fieldstation-processor/${platformId}`;
  const images = execFileSync('docker', ['images', '-q', image], { env, encoding: 'utf8' });
  if (images.trim()) execFileSync('docker', ['rmi', '-f', image + ':current'], { env });
}
