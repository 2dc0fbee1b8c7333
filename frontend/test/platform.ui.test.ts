import { readFileSync, statSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessibilityAudit } from './accessibility';
import {
  freePort,
  launchChromium,
  removeLeftoverStack,
  screenshot,
  startBuiltApp,
  testHostEnv,
  watchConsole,
} from './ui-harness';

const MINUTE = 60_000;
const PASSWORD = 'a perfectly long passphrase';
const EDITED_SCRIPT = `// Edited in the browser
export default function process(reading) {
  return { ...reading, data: { ...reading.data, edited: true } };
}
`;

/**
 * Waits until the deployment log in `scope` shows a finished status; any other outcome than
 * `expected` throws with the last log lines, so the test names the step that broke.
 */
async function deploymentOutcome(
  scope: Locator | Page,
  action: string,
  timeout: number,
  expected: 'succeeded' | 'failed' = 'succeeded',
): Promise<void> {
  const page = 'page' in scope ? scope.page() : scope;
  // The log of this action, not one still shown from before.
  await scope.getByTestId('deployment-action').filter({ hasText: action }).waitFor();
  const status = scope.getByTestId('deployment-status');
  const failure = async (what: string) => {
    await screenshot(page, '99-failure');
    const log = await scope.getByTestId('deployment-log').innerText();
    return new Error(`${what}\n--- deployment log (last lines) ---\n${tail(log)}`);
  };
  try {
    await status.filter({ hasText: /^(succeeded|failed|cancelled)$/ }).waitFor({ timeout });
  } catch (error) {
    throw await failure((error as Error).message);
  }
  const outcome = await status.innerText();
  if (outcome !== expected) throw await failure(`the deployment ${outcome}`);
}

const tail = (text: string) => text.split('\n').slice(-40).join('\n');

describe('a platform on the local test SSH host, in a real browser', () => {
  let app: Awaited<ReturnType<typeof startBuiltApp>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleProblems: string[];
  const audit = new AccessibilityAudit('platform');
  /** Set once launched, cleared once destroyed: what afterAll must clean up. */
  let leftover: string | undefined;

  beforeAll(async () => {
    app = await startBuiltApp(testHostEnv(), 'platform-app');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: app.baseUrl,
    });
    page = await context.newPage();
    consoleProblems = watchConsole(page);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (leftover) removeLeftoverStack(leftover);
  });

  it(
    'registers, adds the host, launches, watches the log reach running, copies the MQTT snippet, edits the script, downloads a dump, destroys',
    async () => {
      // Register: a new user lands on the (empty) platform list.
      await page.goto(`${app.baseUrl}/register`);
      await page.getByLabel('Email').fill(`platform-${Date.now()}@example.org`);
      await page.getByLabel('Username').fill('grace');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/platforms$/);
      await page.getByText('No platforms yet').waitFor();
      await screenshot(page, '10-platforms-empty');
      await audit.check(page, 'platforms (none)');

      // Spaces: the page says which platforms need none, and the API's errors sit by the field.
      await page.getByRole('link', { name: 'Spaces' }).click();
      await page.getByText('need no space').waitFor();
      await audit.check(page, 'spaces');
      await page.getByRole('button', { name: 'Create space' }).click();
      await page.getByLabel('Name', { exact: true }).fill('lab');
      await page.getByRole('dialog').getByRole('button', { name: 'Create space' }).click();
      await page.locator('.field-error').first().waitFor();
      await screenshot(page, '11-spaces-create-error');
      await audit.check(page, 'create space dialog with an error');
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

      // An SSH-host credential signing in with the test host's uploaded key.
      await page.getByRole('link', { name: 'Credentials' }).click();
      await page.getByRole('button', { name: 'Add credential' }).click();
      await page.getByLabel('Name', { exact: true }).fill('test-host');
      await page.getByLabel('Host', { exact: true }).fill(process.env.FS_TEST_SSH_HOST!);
      await page.getByLabel('Port', { exact: true }).fill(process.env.FS_TEST_SSH_PORT!);
      await page.getByLabel('User', { exact: true }).fill(process.env.FS_TEST_SSH_USER!);
      await page.getByLabel('Sign in with').click();
      await page.getByRole('option', { name: 'A private key I upload' }).click();
      await page
        .getByLabel('Private key (OpenSSH, unencrypted)')
        .fill(readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'));
      await page.getByTestId('ssh-host-needs').getByText('sudo').first().waitFor();
      await page.getByRole('button', { name: 'Save' }).click();
      // Saved: the dialog offers Test connection, which logs in and reports each check.
      await page.getByRole('button', { name: 'Test connection' }).click();
      const report = page.getByTestId('host-check-report');
      await report.getByText('The host is ready for a launch.').waitFor();
      for (const check of ['connection', 'sudo', 'os', 'python', 'docker', 'disk']) {
        await expect(report.getByTestId(`check-${check}`).innerText()).resolves.not.toContain(
          '(fail)',
        );
      }
      await screenshot(page, '11a-credential-tested');
      await audit.check(page, 'credential saved and tested');
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('cell', { name: 'test-host', exact: true }).waitFor();

      // Launch: SSH host is the default target; free loopback ports avoid the test services.
      await page.getByRole('link', { name: 'Platforms' }).click();
      await page.getByRole('link', { name: 'Launch platform' }).click();
      await page.getByRole('heading', { name: 'Launch a platform' }).waitFor();
      await page.getByLabel('Credential').filter({ hasText: 'test-host' }).waitFor();
      await expect(page.getByText('SSH-host platforms need no space').count()).resolves.toBe(1);
      await expect(page.getByLabel('Data volume (GB)').count()).resolves.toBe(0);
      await page.getByLabel('Name', { exact: true }).fill('greenhouse');
      await page.getByLabel('Device users').fill('sensor-1');
      // TLS for devices is on by default; this run uses the plain ports, which the form warns about.
      await expect(page.getByTestId('plain-ports-warning').count()).resolves.toBe(0);
      await page.getByLabel('TLS for devices').uncheck();
      await page.getByTestId('plain-ports-warning').waitFor();
      for (const port of ['AMQP', 'MQTT', 'Grafana', 'RabbitMQ management']) {
        await page.getByLabel(`${port} port`, { exact: true }).fill(String(await freePort()));
      }
      const mqttPort = await page.getByLabel('MQTT port', { exact: true }).inputValue();
      await screenshot(page, '12-launch-form');
      await audit.check(page, 'launch form');
      await page.getByRole('button', { name: 'Launch', exact: true }).click();
      await page.waitForURL(/\/platforms\/[0-9a-f-]{36}$/);
      leftover = page.url().split('/').at(-1);
      await page.getByTestId('deployment-log').locator('.line').first().waitFor();
      await screenshot(page, '13-platform-launching');
      await audit.check(page, 'platform: deployment log (launching)');

      // The streamed log reaches running (the real Ansible run on the test host).
      await deploymentOutcome(page, 'Launch', 15 * MINUTE);
      await page.getByTestId('platform-status').filter({ hasText: 'Running' }).waitFor();
      const timeline = page.getByTestId('step-timeline');
      await expect(timeline.locator('li.done').last().innerText()).resolves.toContain('Running');
      await expect(timeline.locator('li.failed').count()).resolves.toBe(0);
      // Running: the page says what is next.
      await page.getByTestId('next-step').getByText('Next: connect your devices').waitFor();
      await screenshot(page, '14-platform-running');
      await audit.check(page, 'platform: deployment log (running)');
      await page.getByRole('link', { name: 'Platforms', exact: true }).first().click();
      await page.getByRole('link', { name: 'greenhouse' }).waitFor();
      await audit.check(page, 'platforms (one)');
      await page.getByRole('link', { name: 'greenhouse' }).click();
      await page.getByTestId('platform-status').filter({ hasText: 'Running' }).waitFor();

      // Connection details; the paho-mqtt snippet is copied with this platform's login.
      await page.getByRole('tab', { name: 'Connect devices' }).click();
      await page.getByRole('button', { name: 'Copy the Python paho-mqtt snippet' }).click();
      await page.getByRole('button', { name: 'Copied the Python paho-mqtt snippet' }).waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toContain(`client.connect("127.0.0.1", ${mqttPort})`);
      expect(copied).toContain('client.username_pw_set("sensor-1", "');
      expect(copied).toContain('client.publish("telemetry/room/sensor-1"');
      // A launch device's password is not listed: it is revealed once, then the snippet has it.
      await page.getByRole('button', { name: 'Reveal the password of sensor-1 (once)' }).click();
      const launchPassword = await page.getByTestId('device-password-sensor-1').innerText();
      expect(launchPassword.length).toBeGreaterThanOrEqual(16);
      await page.getByText('shown only this once').first().waitFor();
      await expect(
        page.getByRole('button', { name: 'Reveal the password of sensor-1 (once)' }).count(),
      ).resolves.toBe(0);
      await page
        .getByTestId('snippet')
        .filter({ hasText: `client.username_pw_set("sensor-1", "${launchPassword}")` })
        .waitFor();
      await page.getByRole('button', { name: 'mosquitto_pub' }).click();
      await page
        .getByTestId('snippet')
        .filter({ hasText: `-p ${mqttPort}` })
        .waitFor();
      // Nothing published yet: the panel waits; a published reading turns up in its place.
      await page.getByTestId('first-reading-waiting').waitFor();
      const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        username: 'sensor-1',
        password: launchPassword,
        reconnectPeriod: 0,
      });
      await device.publishAsync(
        'telemetry/room/sensor-1',
        JSON.stringify({ measurement: 'room', device: 'sensor-1', data: { celsius: 21.5 } }),
        { qos: 1 },
      );
      await device.endAsync();
      const firstReading = page.getByTestId('first-reading-value');
      await firstReading.waitFor({ timeout: MINUTE });
      await expect(firstReading.innerText()).resolves.toMatch(/room[\s\S]*sensor-1[\s\S]*21\.5/);
      // The header says so too, without waiting for the next minute's health check.
      await expect
        .poll(() => page.getByTestId('last-reading').first().innerText())
        .toMatch(/^Last reading \d/);
      await page.getByRole('button', { name: 'Reveal the admin password (once)' }).click();
      await page.getByTestId('grafana-password').waitFor();
      await screenshot(page, '15-platform-connect');
      await page.setViewportSize({ width: 360, height: 740 });
      await screenshot(page, '15-platform-connect-360');
      await page.setViewportSize({ width: 1280, height: 900 });
      await audit.check(page, 'platform: connect devices');

      // Devices: the launch device is in the registry; a new one's password is shown once.
      await page.getByRole('tab', { name: 'Devices', exact: true }).click();
      const devicesPanel = page.getByRole('region', { name: 'Devices', exact: true });
      await devicesPanel.getByRole('cell', { name: 'sensor-1', exact: true }).waitFor();
      await audit.check(page, 'platform: devices');
      await devicesPanel.getByRole('button', { name: 'Add device' }).click();
      const addDialog = page.getByRole('dialog', { name: 'Add a device' });
      const deviceName = addDialog.getByLabel('Name', { exact: true });
      await deviceName.fill('Sensor_2');
      await addDialog.getByRole('button', { name: 'Add device' }).click();
      await addDialog.locator('.field-error').filter({ hasText: 'not a DNS label' }).waitFor();
      // The API's refusal (a name taken) sits by the field too.
      await deviceName.fill('sensor-1');
      await addDialog.getByRole('button', { name: 'Add device' }).click();
      await addDialog.locator('.field-error').filter({ hasText: 'sensor-1' }).waitFor();
      await audit.check(page, 'add device dialog with an error');
      await deviceName.fill('pi-0001');
      await addDialog.getByLabel('Labels').fill('site=greenhouse-2; model=pi-zero');
      await addDialog.getByRole('button', { name: 'Add device' }).click();
      const secretDialog = page.getByRole('dialog', { name: 'pi-0001 is added' });
      const devicePassword = await secretDialog.getByTestId('device-password').innerText();
      expect(devicePassword.length).toBeGreaterThanOrEqual(16);
      await secretDialog.getByText('you will not see it again').waitFor();
      await secretDialog.getByRole('button', { name: 'Copy the Python paho-mqtt snippet' }).click();
      await expect
        .poll(() => page.evaluate(() => navigator.clipboard.readText()))
        .toContain(`client.username_pw_set("pi-0001", "${devicePassword}")`);
      await screenshot(page, '15a-device-added');
      await audit.check(page, 'device password shown once');
      await secretDialog.getByRole('button', { name: 'Done' }).click();
      await secretDialog.waitFor({ state: 'detached' });
      // Once: the password is nowhere on the page any more.
      await expect(page.getByText(devicePassword).count()).resolves.toBe(0);
      const newRow = devicesPanel.getByRole('row').filter({ hasText: 'pi-0001' });
      await newRow.getByText('site=greenhouse-2').waitFor();

      // Rotate asks first; the new password is shown once and the old one no longer logs in.
      await newRow.getByRole('button', { name: 'Rotate the password of pi-0001' }).click();
      const rotateDialog = page.getByRole('alertdialog');
      await expect(rotateDialog.innerText()).resolves.toContain('The old one stops working');
      await rotateDialog.getByRole('button', { name: 'Rotate' }).click();
      const rotatedDialog = page.getByRole('dialog', { name: 'New password for pi-0001' });
      const rotatedPassword = await rotatedDialog.getByTestId('device-password').innerText();
      expect(rotatedPassword).not.toBe(devicePassword);
      await rotatedDialog.getByRole('button', { name: 'Done' }).click();
      await rotatedDialog.waitFor({ state: 'detached' });
      await expect(
        mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: 'pi-0001',
          password: devicePassword,
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();
      await (
        await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: 'pi-0001',
          password: rotatedPassword,
          clientId: 'pi-0001',
          reconnectPeriod: 0,
        })
      ).endAsync();

      // A CSV import is checked row by row before anything is created.
      await devicesPanel.getByRole('button', { name: 'Import CSV' }).click();
      const importDialog = page.getByRole('dialog', { name: 'Import devices from CSV' });
      await importDialog
        .getByLabel('Devices (CSV)')
        .fill('name,labels\npi-0002,site=row-1\nPi 3,site=row-2\npi-0001,\n');
      await importDialog.getByRole('button', { name: 'Check' }).click();
      // pi-0001 exists: skipped as the API does, not a problem.
      await expect(importDialog.getByTestId('import-problems').innerText()).resolves.toMatch(
        /^Line 3: "Pi 3" is not a DNS label[^\n]*$/,
      );
      await audit.check(page, 'import devices with problems');
      await importDialog
        .getByLabel('Devices (CSV)')
        .fill('name,labels\npi-0002,site=row-1\npi-0003,"site=row-2;model=esp32"\n');
      await importDialog.getByRole('button', { name: 'Check' }).click();
      await importDialog.getByRole('button', { name: 'Add 2 devices' }).click();
      // The API runs the import as a job; the dialog follows its progress.
      await importDialog
        .getByTestId('import-progress')
        .filter({ hasText: 'Imported: 2 of 2 changes; 2 devices added' })
        .waitFor({ timeout: MINUTE });
      const [passwords] = await Promise.all([
        page.waitForEvent('download'),
        importDialog.getByRole('button', { name: 'Download passwords (CSV, once)' }).click(),
      ]);
      expect(passwords.suggestedFilename()).toBe('greenhouse-device-passwords.csv');
      const imported = readFileSync(await passwords.path(), 'utf8');
      expect(imported).toMatch(/^name,password\npi-0002,\S{16,}\npi-0003,\S{16,}\n$/);
      await importDialog.getByTestId('import-downloaded').waitFor();
      await importDialog.getByRole('button', { name: 'Done' }).click();
      await devicesPanel.getByRole('cell', { name: 'pi-0003', exact: true }).waitFor();
      const pi2Password = /pi-0002,(\S+)/.exec(imported)![1]!;
      await (
        await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: 'pi-0002',
          password: pi2Password,
          clientId: 'pi-0002',
          reconnectPeriod: 0,
        })
      ).endAsync();

      // An allowlist import revokes the devices not in it, after a confirmation.
      await devicesPanel.getByRole('button', { name: 'Import CSV' }).click();
      await importDialog
        .getByLabel('Devices (CSV)')
        .fill('name,labels\nsensor-1,\npi-0001,\npi-0002,site=row-1\n');
      await importDialog.getByLabel('Revoke devices not in the list').check();
      await importDialog.getByRole('button', { name: 'Check' }).click();
      await importDialog.getByRole('button', { name: 'Import and revoke' }).click();
      await importDialog.getByTestId('import-confirm-revoke').waitFor();
      await audit.check(page, 'import with revoke confirmation');
      await importDialog.getByRole('button', { name: 'Import and revoke' }).click();
      await importDialog
        .getByTestId('import-progress')
        .filter({ hasText: 'Imported: 1 of 1 changes; 0 devices added, 1 revoked' })
        .waitFor({ timeout: MINUTE });
      await importDialog.getByRole('button', { name: 'Done' }).click();
      await devicesPanel
        .getByRole('cell', { name: 'pi-0003', exact: true })
        .waitFor({ state: 'detached' });

      // Revoke asks first, naming the device and what happens to its connections.
      await newRow.getByRole('button', { name: 'Revoke pi-0001' }).click();
      const revokeDialog = page.getByRole('alertdialog');
      await expect(revokeDialog.innerText()).resolves.toContain('Revoke pi-0001?');
      await expect(revokeDialog.innerText()).resolves.toContain('open connections close at once');
      await audit.check(page, 'revoke device confirmation');
      await revokeDialog.getByRole('button', { name: 'Revoke pi-0001' }).click();
      await newRow.waitFor({ state: 'detached' });
      await page.getByLabel('Status', { exact: true }).click();
      await page.getByRole('option', { name: 'Revoked' }).click();
      await devicesPanel
        .getByRole('row')
        .filter({ hasText: 'pi-0001' })
        .getByText('revoked')
        .first()
        .waitFor();
      await screenshot(page, '15b-devices');

      // Edit the processing script; the update runs as its own deployment.
      await page.getByRole('tab', { name: 'Processing script' }).click();
      const editor = page.locator('.cm-content');
      await editor.waitFor();
      await audit.check(page, 'platform: processing script');
      // A typo is refused before anything is queued, and the editor marks its line.
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText(
        'export default function process(reading) {\n  const oops = ;\n}\n',
      );
      await page.getByRole('button', { name: 'Update processor' }).click();
      await expect(page.getByTestId('processor-error').innerText()).resolves.toContain(
        'line 2, column 16: Unexpected token',
      );
      await page.locator('.cm-problem-line').filter({ hasText: 'const oops' }).waitFor();

      // A script that parses but throws as it loads reaches the host, which refuses it in
      // seconds: the previous script keeps running and the platform stays Running.
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText(`throw new Error('set the room first');\n${EDITED_SCRIPT}`);
      await page.getByRole('button', { name: 'Update processor' }).click();
      const processingTab = page.getByRole('tabpanel');
      await deploymentOutcome(processingTab, 'Processor update', 10 * MINUTE, 'failed');
      await processingTab
        .getByText('The script does not load: set the room first')
        .first()
        .waitFor();
      await page.getByTestId('platform-status').filter({ hasText: 'Running' }).waitFor();
      await processingTab.getByText('Unsaved changes').waitFor();
      await expect(
        page.getByRole('button', { name: 'Update processor' }).isEnabled(),
      ).resolves.toBe(true);
      await screenshot(page, '16a-update-refused');
      await audit.check(page, 'platform: processing script, update refused');
      await page.setViewportSize({ width: 360, height: 740 });
      await screenshot(page, '16a-update-refused-360');
      await page.setViewportSize({ width: 1280, height: 900 });

      // Fixed in the editor and updated again: nothing was destroyed or retried by hand.
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText(EDITED_SCRIPT);
      await expect(editor.innerText()).resolves.toContain('edited: true');
      await page.getByRole('button', { name: 'Update processor' }).click();
      // The refused update's log is replaced by this one's (same action name).
      await processingTab
        .getByTestId('deployment-status')
        .filter({ hasText: /^(queued|running)$/ })
        .waitFor();
      await deploymentOutcome(processingTab, 'Processor update', 10 * MINUTE);
      await screenshot(page, '16-platform-processing');
      await page.setViewportSize({ width: 360, height: 740 });
      await screenshot(page, '16b-platform-processing-360');
      await page.setViewportSize({ width: 1280, height: 900 });

      // The Data tab lists the newest readings, read over SSH; then a dump is made and downloaded.
      await page.getByRole('tab', { name: 'Data' }).click();
      await page
        .getByTestId('readings-table')
        .getByRole('row')
        .filter({ hasText: 'sensor-1' })
        .filter({ hasText: '"celsius":21.5' })
        .first()
        .waitFor();
      await expect(page.getByTestId('download-blocked').innerText()).resolves.toContain(
        'No dump yet',
      );
      await page.getByRole('button', { name: 'Make a dump' }).click();
      await deploymentOutcome(page.getByRole('tabpanel'), 'Dump', 10 * MINUTE);
      const downloadButton = page.getByRole('button', { name: 'Download dump' });
      await expect.poll(() => downloadButton.isEnabled(), { timeout: 30_000 }).toBe(true);
      const [download] = await Promise.all([page.waitForEvent('download'), downloadButton.click()]);
      expect(download.suggestedFilename()).toMatch(/^greenhouse-/);
      expect(statSync(await download.path()).size).toBeGreaterThan(0);
      await screenshot(page, '17-platform-data');
      await audit.check(page, 'platform: data');

      // Restore the dump just downloaded (replaces the database's data with the same data).
      await page.getByLabel('Dump file to restore').setInputFiles(await download.path());
      await page.getByRole('button', { name: 'Restore', exact: true }).click();
      await page
        .getByRole('alertdialog')
        .getByRole('button', { name: 'Restore', exact: true })
        .click();
      await deploymentOutcome(page.getByRole('tabpanel'), 'Restore', 10 * MINUTE);

      // The script survived a reload.
      await page.reload();
      await page.getByRole('tab', { name: 'Processing script' }).click();
      await page.locator('.cm-content').filter({ hasText: 'edited: true' }).waitFor();

      await page.setViewportSize({ width: 360, height: 740 });
      await page.getByRole('tab', { name: 'Connect devices' }).click();
      // The selected tab is in full view, not under the strip's arrow buttons.
      await expect
        .poll(() =>
          page.evaluate(() => {
            const tab = document.querySelector('[role="tab"][aria-selected="true"]')!;
            const { left, right } = tab.getBoundingClientRect();
            return [...document.querySelectorAll('.p-tablist-nav-button')]
              .map((button) => button.getBoundingClientRect())
              .filter(
                (button) => button.width > 0 && button.left < right - 1 && button.right > left + 1,
              ).length;
          }),
        )
        .toBe(0);
      await screenshot(page, '18-platform-360');
      await expect(
        page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      ).resolves.toBe(true);
      await page.setViewportSize({ width: 1280, height: 900 });

      // Destroy, typing the name; the host keeps running, the stack and its data go.
      await page.getByRole('button', { name: 'Destroy' }).click();
      const dialog = page.getByRole('dialog');
      const confirm = dialog.getByRole('button', { name: 'Destroy' });
      await expect(confirm.isDisabled()).resolves.toBe(true);
      await audit.check(page, 'destroy dialog');
      await dialog.getByLabel('Type greenhouse to confirm').fill('greenhouse');
      await dialog.getByLabel('Also delete the data and dumps on the host').check();
      await confirm.click();
      await deploymentOutcome(page.getByRole('tabpanel'), 'Destroy', 10 * MINUTE);
      await page.getByTestId('platform-status').filter({ hasText: 'Destroyed' }).waitFor();
      await screenshot(page, '19-platform-destroyed');
      leftover = undefined;

      // Destroyed, it stays listed (greyed, its log kept) until removed.
      await page.getByRole('link', { name: 'Platforms', exact: true }).first().click();
      await page.getByRole('button', { name: 'Remove greenhouse from the list' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
      await page.getByText('No platforms yet').waitFor();

      await page.setViewportSize({ width: 360, height: 740 });
      await page.getByRole('link', { name: 'Launch platform' }).click();
      await page.getByRole('heading', { name: 'Launch a platform' }).waitFor();
      await screenshot(page, '20-launch-360');
      await expect(
        page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      ).resolves.toBe(true);
      expect(audit.problems()).toEqual([]);
      expect(consoleProblems).toEqual([]);
    },
    40 * MINUTE,
  );
});
