import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessibilityAudit, NARROW_WIDTH } from './accessibility';
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
/** Seconds between the app's health checks: long enough for a check over SSH under load. */
const SAMPLE_SECONDS = 10;

/** The API as the test's own session (setup the UI tests elsewhere already cover). */
class Api {
  private token = '';
  constructor(private readonly baseUrl: string) {}

  async login(email: string, password: string): Promise<void> {
    const answer = await this.call<{ accessToken: string }>('POST', '/auth/login', {
      email,
      password,
    });
    this.token = answer.accessToken;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A webhook receiver on loopback: refuses the first message with a 500, takes the rest. */
function startReceiver(): Promise<{ server: Server; url: string; received: string[] }> {
  const received: string[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(body);
      if (received.length === 1) {
        response.writeHead(500).end('receiver down for maintenance');
      } else {
        response.writeHead(204).end();
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fieldstation`,
        received,
      }),
    ),
  );
}

describe('platform overview, alert rules and notification channels, in a real browser', () => {
  let app: Awaited<ReturnType<typeof startBuiltApp>>;
  let browser: Browser;
  let page: Page;
  let consoleProblems: string[];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let device: MqttClient | undefined;
  let publishing: ReturnType<typeof setInterval> | undefined;
  let leftover: string | undefined;
  const audit = new AccessibilityAudit('overview');

  beforeAll(async () => {
    // The health check (and so the metrics sampling) every few seconds instead of every minute:
    // the charts get their samples from the real platform without waiting minutes for them.
    app = await startBuiltApp(
      { ...testHostEnv(), HEALTH_CHECK_INTERVAL_SECONDS: String(SAMPLE_SECONDS) },
      'overview-app',
    );
    receiver = await startReceiver();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    consoleProblems = watchConsole(page);
  });
  afterAll(async () => {
    clearInterval(publishing);
    await device?.endAsync();
    await browser?.close();
    await app?.stop();
    receiver?.server.close();
    if (leftover) removeLeftoverStack(leftover);
  });

  it(
    'charts a running platform with real readings, shows its sparkline, and creates alert rules and a webhook channel',
    async () => {
      // Sign up in the browser; the test's own API session sets up the host and the platform.
      const email = `overview-${Date.now()}@example.org`;
      await page.goto(`${app.baseUrl}/register`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Username').fill('ada');
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/platforms$/);
      const api = new Api(app.baseUrl);
      await api.login(email, PASSWORD);
      const credential = await api.call<{ id: string }>('POST', '/credentials', {
        type: 'ssh-host',
        name: 'test-host',
        host: process.env.FS_TEST_SSH_HOST,
        port: Number(process.env.FS_TEST_SSH_PORT),
        username: process.env.FS_TEST_SSH_USER,
        auth: 'uploaded-key',
        privateKey: readFileSync(process.env.FS_TEST_SSH_KEY_FILE!, 'utf8'),
      });
      const mqttPort = await freePort();
      const launched = await api.call<{ platform: { id: string } }>('POST', '/platforms', {
        name: 'orchard',
        target: 'ssh-host',
        credentialId: credential.id,
        tls: false,
        deviceUsers: ['sensor-1'],
        ports: {
          mqtt: mqttPort,
          amqp: await freePort(),
          grafana: await freePort(),
          rabbitmqManagement: await freePort(),
        },
      });
      const platformId = launched.platform.id;
      leftover = platformId;

      await page.goto(`${app.baseUrl}/platforms/${platformId}`);
      await page
        .getByTestId('platform-status')
        .filter({ hasText: /Running|Failed/ })
        .waitFor({ timeout: 15 * MINUTE });
      await expect(page.getByTestId('platform-status').innerText()).resolves.toContain('Running');

      // A device publishes 4 readings a second from now on.
      const { password } = await api.call<{ password: string }>(
        'POST',
        `/platforms/${platformId}/devices`,
        { name: 'probe-1' },
      );
      device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        username: 'probe-1',
        password,
        reconnectPeriod: 1000,
      });
      let sent = 0;
      publishing = setInterval(() => {
        sent += 1;
        device!.publish(
          'telemetry/orchard/probe-1',
          JSON.stringify({ measurement: 'orchard', device: 'probe-1', data: { celsius: sent } }),
          { qos: 1 },
        );
      }, 250);

      // Overview: the readings chart appears once two samples a check apart have rates.
      await page.getByRole('tab', { name: 'Overview' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const readingsChart = page.getByTestId('chart-readings').getByRole('img');
      await readingsChart.waitFor({ timeout: 3 * MINUTE });
      // Three rated samples (four health checks), so the lines are lines.
      await expect
        .poll(
          async () =>
            Number(await page.getByTestId('chart-readings').getAttribute('data-measured')),
          {
            timeout: 3 * MINUTE,
            interval: 1000,
          },
        )
        .toBeGreaterThanOrEqual(3);
      const description = (await readingsChart.getAttribute('aria-label')) ?? '';
      expect(description).toMatch(/^Readings per second over the last hour: in now [\d.]+\/s/);
      const rate = Number(/in now ([\d.]+)\/s/.exec(description)![1]);
      expect(rate).toBeGreaterThan(1);
      expect(rate).toBeLessThan(8);
      await page.getByTestId('chart-queue').getByRole('img').waitFor();
      await page
        .getByTestId('devices-online')
        .filter({ hasText: /online now: 1 of 2/ })
        .waitFor();
      // The devices online are sampled into the history with the other figures.
      await expect(
        page.getByTestId('chart-devices').getByRole('img').getAttribute('aria-label'),
      ).resolves.toMatch(/^Devices online over the last hour: online now 1 \(.*total now 2 /);
      // The figures as text, for whoever cannot see the chart.
      await page.getByText('The figures as a table').click();
      await expect(
        page
          .getByTestId('overview-figures')
          .getByRole('row', { name: /Readings per second, in/ })
          .innerText(),
      ).resolves.toMatch(/\d\/s/);
      await screenshot(page, '30-overview-1280');
      await audit.check(page, 'platform: overview');
      await page.setViewportSize({ width: NARROW_WIDTH, height: 740 });
      await page.getByTestId('chart-readings').scrollIntoViewIfNeeded();
      await screenshot(page, '31-overview-360');
      await page.setViewportSize({ width: 1280, height: 900 });

      // The Platforms list: a sparkline of the same rate.
      await page.getByRole('link', { name: 'Platforms', exact: true }).first().click();
      const sparkline = page
        .getByRole('row')
        .filter({ hasText: 'orchard' })
        .getByRole('img', { name: /^Readings per second over the last hour/ });
      await sparkline.waitFor();
      await expect(sparkline.locator('svg polyline').count()).resolves.toBe(1);
      await expect(sparkline.getAttribute('aria-label')).resolves.toMatch(/now [\d.]+\/s/);
      await screenshot(page, '32-platforms-sparkline');
      await audit.check(page, 'platforms with sparklines');

      // Alerts: the launch defaults are listed; a rule naming a device that does not exist is
      // refused by the API with the device named next to the field; a valid one is added, muted.
      await page.getByRole('link', { name: 'orchard' }).click();
      await page.getByRole('tab', { name: 'Alerts' }).click();
      const rules = page.getByTestId('alert-rules');
      await rules.getByText('Not healthy for 1 minute').waitFor();
      await rules.getByText('Any dead letter within 5 minutes').waitFor();
      await rules.getByText('More than 10,000 queued for 5 minutes').waitFor();
      await audit.check(page, 'platform: alerts');
      await page.getByRole('button', { name: 'Add rule' }).click();
      const ruleDialog = page.getByRole('dialog', { name: 'Add an alert rule' });
      await ruleDialog.getByLabel('Alert when').click();
      await page.getByRole('option', { name: 'Device silent' }).click();
      await ruleDialog.getByLabel('Device (optional)', { exact: true }).fill('no-such-device');
      await ruleDialog.getByRole('button', { name: 'Add rule' }).click();
      await ruleDialog.locator('.field-error').filter({ hasText: 'no-such-device' }).waitFor();
      await screenshot(page, '33-alert-rule-error');
      await audit.check(page, 'add alert rule with an error');
      await ruleDialog.getByLabel('Device (optional)', { exact: true }).fill('probe-1');
      await ruleDialog.getByLabel('Minutes', { exact: true }).fill('3');
      await ruleDialog.getByRole('button', { name: 'Add rule' }).click();
      await ruleDialog.waitFor({ state: 'detached' });
      const silentRule = rules
        .getByRole('row')
        .filter({ hasText: 'Device probe-1 without a reading for 3 minutes' });
      await silentRule.waitFor();
      await silentRule
        .getByRole('button', { name: 'Mute: Device probe-1 without a reading for 3 minutes' })
        .click();
      await page.getByRole('button', { name: 'For 8 hours' }).click();
      await silentRule.getByText(/^until /).waitFor();
      await expect(silentRule.getByText('resolved').count()).resolves.toBe(1);
      await screenshot(page, '34-alert-rules');
      await audit.check(page, 'platform: alerts with a muted rule');

      // Notifications: a webhook channel; its test is refused once (500), then retried and taken.
      await page.getByRole('link', { name: 'Notifications' }).click();
      await page.getByText('No channels yet').waitFor();
      await audit.check(page, 'notifications (none)');
      await page.getByRole('button', { name: 'Add channel' }).click();
      const channelDialog = page.getByRole('dialog', { name: 'Add a notification channel' });
      await channelDialog.getByLabel('Name', { exact: true }).fill('ops hook');
      await channelDialog.getByLabel('URL').fill('ftp://example.org/x');
      await channelDialog.getByRole('button', { name: 'Add channel' }).click();
      await channelDialog.locator('.field-error').filter({ hasText: 'url' }).waitFor();
      await audit.check(page, 'add channel with an error');
      await channelDialog.getByLabel('URL').fill(receiver.url);
      await channelDialog.getByRole('button', { name: 'Add channel' }).click();
      const added = page.getByRole('dialog', { name: 'Webhook added' });
      await expect(added.getByTestId('signing-secret').innerText()).resolves.toMatch(/^whsec_/);
      await added.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('cell', { name: 'ops hook', exact: true }).waitFor();
      await page.getByRole('button', { name: 'Send a test to ops hook' }).click();
      const log = page.getByTestId('delivery-log');
      await log.getByText('delivered after 2 attempts: HTTP 204').waitFor({ timeout: MINUTE });
      await expect(log.innerText()).resolves.toContain('HTTP 500: receiver down for maintenance');
      expect(receiver.received).toHaveLength(2);
      await screenshot(page, '35-notifications');
      await audit.check(page, 'notifications with a delivery log');

      expect(audit.problems()).toEqual([]);
      expect(consoleProblems).toEqual([]);
    },
    30 * MINUTE,
  );
});
