import type { INestApplication } from '@nestjs/common';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client';
import { startTestApp } from '../test/http-app';
import {
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../test/shared-broker-platform';
import { percentile } from './percentile';

/**
 * `npm run bench:devices` (BENCH_DEVICES=N, default 20): for N devices, one after another, the
 * time from the answer of POST / rotate / DELETE to the change holding on the broker (the new
 * login accepted; after rotate the old one refused; after revoke the login refused), and each
 * call's own duration. The broker is the shared test RabbitMQ reached as a launched platform's
 * (SSH to the test sshd, management API on its loopback: backend/test/shared-broker-platform.ts).
 * Target (issue 14): p95 ≤ 5,000 ms from request to effect.
 */
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
const GIVE_UP_MS = 30_000;

type Answer = { status: number; body: { password?: string } };

describe('bench: device changes until effective on the broker', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  const names: string[] = [];

  beforeAll(async () => {
    const started = await startTestApp({ role: 'api' });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('bench');
    const platform = await sharedBrokerPlatform(app, api);
    broker = platform.broker;
    devices = `/platforms/${platform.platformId}/devices`;
  }, 120_000);

  afterAll(async () => {
    for (const name of names) await broker?.api('DELETE', `/users/${name}`);
    await app?.close();
  });

  async function accepts(username: string, password: string): Promise<boolean> {
    const url = `amqp://${username}:${encodeURIComponent(password)}@127.0.0.1:${broker.amqpPort}`;
    try {
      await (await amqp.connect(url)).close();
      return true;
    } catch (error) {
      if (/ACCESS_REFUSED|403/.test(String(error))) return false;
      throw error;
    }
  }

  /** Polls the login until it is as wanted; milliseconds from `since`. */
  async function until(want: boolean, username: string, password: string, since: number) {
    for (;;) {
      if ((await accepts(username, password)) === want) return Date.now() - since;
      if (Date.now() - since > GIVE_UP_MS) throw new Error(`${username} never became ${want}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** One call, timed: its duration and when its answer arrived. */
  async function timed(call: () => Promise<Answer>, expected: number) {
    const sent = Date.now();
    const answer = await call();
    expect(answer.status).toBe(expected);
    return { answer, sent, answered: Date.now() };
  }

  it(`creates, rotates and revokes ${DEVICES} devices`, async () => {
    const figures = {
      add: { call: [] as number[], afterAnswer: [] as number[], total: [] as number[] },
      rotate: { call: [] as number[], afterAnswer: [] as number[], total: [] as number[] },
      revoke: { call: [] as number[], afterAnswer: [] as number[], total: [] as number[] },
    };
    const note = (op: keyof typeof figures, sent: number, answered: number, effective: number) => {
      figures[op].call.push(answered - sent);
      figures[op].afterAnswer.push(effective);
      figures[op].total.push(answered - sent + effective);
    };
    for (let i = 0; i < DEVICES; i++) {
      const name = uniqueDeviceName(`bench-${i}`);
      names.push(name);
      const created = await timed(() => api.post(devices, { name }), 201);
      const first = created.answer.body.password!;
      note('add', created.sent, created.answered, await until(true, name, first, created.answered));

      const rotated = await timed(() => api.post(`${devices}/${name}/rotate`), 201);
      const second = rotated.answer.body.password!;
      const newWorks = await until(true, name, second, rotated.answered);
      const oldRefused = await until(false, name, first, rotated.answered);
      note('rotate', rotated.sent, rotated.answered, Math.max(newWorks, oldRefused));

      const revoked = await timed(() => api.delete(`${devices}/${name}`), 200);
      note(
        'revoke',
        revoked.sent,
        revoked.answered,
        await until(false, name, second, revoked.answered),
      );
    }
    const line = (op: keyof typeof figures) => {
      const { call, afterAnswer, total } = figures[op];
      return (
        `${op.padEnd(6)} call p50 ${percentile(call, 50)} ms p95 ${percentile(call, 95)} ms | ` +
        `answer→effective p50 ${percentile(afterAnswer, 50)} ms p95 ${percentile(afterAnswer, 95)} ms | ` +
        `request→effective p95 ${percentile(total, 95)} ms`
      );
    };
    const worst = Math.max(...Object.values(figures).map(({ total }) => percentile(total, 95)));
    console.log(
      [
        `bench:devices — ${DEVICES} devices, shared test RabbitMQ over SSH + management API`,
        line('add'),
        line('rotate'),
        line('revoke'),
        `devices: ${DEVICES} changed ×3, worst request→effective p95 ${worst} ms (target ≤ 5000 ms)`,
      ].join('\n'),
    );
    expect(worst).toBeLessThanOrEqual(5_000);
  });
});
