import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, openPublisher, queueDepth, type TestVhost } from './support/broker';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

const MAIN = path.join(__dirname, '..', 'dist', 'main.cjs');
const DEAD_LETTER_QUEUE = 'telemetry.dead-letter';

const BROKEN = `export default function process(reading, ctx) {
  ctx.log('converting', { device: reading.device, raw: reading.data.raw });
  if (reading.data.raw > 1000) throw new Error('raw out of range: ' + reading.data.raw);
  return { ...reading, data: { celsius: reading.data.raw / 10 } };
}
`;
const FIXED = `export default function process(reading) {
  return { ...reading, data: { celsius: Math.min(reading.data.raw, 1000) / 10, version: 2 } };
}
`;

/** `main.cjs <flag>` as the backend runs it in the container; its result line, parsed. */
function debugCommand(env: Record<string, string>, flag: string, stdin = ''): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, flag], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('FIELDSTATION-RESULT '));
      if (code !== 0 || !line) reject(new Error(`${flag} exited ${code}: ${stderr}${stdout}`));
      else resolve(JSON.parse(line.slice('FIELDSTATION-RESULT '.length)));
    });
    child.stdin.end(stdin);
  });
}

describe('script debugging: script log, dead letters (list, replay, purge) and dry run', () => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;
  let scriptDir: string;
  let scriptPath: string;
  let env: Record<string, string>;
  let fanoutDevice: { amqpUrl: string; delete(): Promise<void> };
  const fanoutLogin = `fanout-${Date.now().toString(36)}`;

  beforeAll(async () => {
    vhost = await createTestVhost();
    fanoutDevice = await vhost.addUser(fanoutLogin);
    store = await createReadingStore('postgres');
    scriptDir = mkdtempSync(path.join(tmpdir(), 'fs-script-'));
    scriptPath = path.join(scriptDir, 'process.mjs');
    writeFileSync(scriptPath, BROKEN);
    env = {
      AMQP_URL: vhost.amqpUrl,
      SCRIPT_PATH: scriptPath,
      PROCESSOR_BATCH_SIZE: '10',
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      ...store.processorEnv(),
    };
    processor = await ProcessorProcess.start(env);
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await fanoutDevice?.delete();
    await vhost?.delete();
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  });

  it('keeps ctx.log lines, lists dead letters with stage and reason, replays them after a fix and purges', async () => {
    const publisher = await openPublisher(vhost.amqpUrl);
    for (let i = 0; i < 4; i++) {
      publisher.publishJson('amq.topic', `telemetry.room.pi-${i}`, { data: { raw: 2000 + i } });
    }
    publisher.publishJson('amq.topic', 'telemetry.room.pi-ok', { data: { raw: 215 } });
    await publisher.confirmed();
    await publisher.close();
    const fanout = await openPublisher(fanoutDevice.amqpUrl);
    fanout.publishJson('data', '', { measurement: 'room', data: { raw: 3000 } }, fanoutLogin);
    await fanout.confirmed();
    await fanout.close();

    await waitFor(
      'five dead letters',
      async () => (await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)) >= 5,
    );
    const log = await processor.get<{
      lines: { source: string; message: string; fields: string }[];
    }>('/script-log');
    expect(
      log.lines.filter((line) => line.source === 'user-script' && line.message === 'converting'),
    ).toHaveLength(6);
    expect(log.lines.map((line) => line.fields)).toContain('{"device":"pi-ok","raw":215}');

    const listed = (await debugCommand(env, '--list-dead-letters')) as {
      total: number;
      letters: {
        stage: string;
        reason: string;
        device: string;
        measurement: string;
        bodyPreview: string;
        time: string;
      }[];
    };
    expect(listed.total).toBe(5);
    expect(listed.letters.map((letter) => letter.device).sort()).toEqual(
      [fanoutLogin, 'pi-0', 'pi-1', 'pi-2', 'pi-3'].sort(),
    );
    expect(listed.letters[0]).toMatchObject({
      stage: 'script',
      reason: 'script failed: raw out of range: 2000',
      measurement: 'room',
      bodyPreview: '{"data":{"raw":2000}}',
    });
    expect(Date.parse(listed.letters[0]!.time)).toBeGreaterThan(Date.now() - 120_000);
    // Listing takes nothing away.
    expect(await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)).toBe(5);

    // Broken version: the same error per reading; fixed version: the outputs.
    const broken = (await debugCommand(
      env,
      '--dry-run',
      JSON.stringify({ scriptSource: BROKEN, from: 'dead-letters' }),
    )) as {
      loadError: string | null;
      results: { error: string | null; outputs: unknown[] | null }[];
      log: unknown[];
    };
    expect(broken.loadError).toBeNull();
    expect(broken.results).toHaveLength(5);
    expect(broken.results[0]).toEqual({
      input: expect.objectContaining({ device: 'pi-0', data: { raw: 2000 } }),
      bodyPreview: null,
      outputs: null,
      error: 'script failed: raw out of range: 2000',
    });
    expect(broken.log).toHaveLength(5);
    const fixed = (await debugCommand(
      env,
      '--dry-run',
      JSON.stringify({ scriptSource: FIXED, from: 'dead-letters' }),
    )) as {
      results: { error: string | null; outputs: { device: string; data: unknown }[] | null }[];
    };
    expect(fixed.results.map((result) => result.error)).toEqual([null, null, null, null, null]);
    expect(fixed.results.map((result) => result.outputs?.[0]?.data)).toEqual(
      Array(5).fill({ celsius: 100, version: 2 }),
    );
    const notLoading = (await debugCommand(
      env,
      '--dry-run',
      JSON.stringify({ scriptSource: 'export default function (', from: 'readings', readings: [] }),
    )) as { loadError: string | null };
    expect(notLoading.loadError).toMatch(/SyntaxError|Unexpected/);
    expect(await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)).toBe(5);

    writeFileSync(scriptPath, FIXED);
    // The processor picks the new file up before its next batch: wait until a probe went through it.
    const probe = await openPublisher(vhost.amqpUrl);
    await waitFor(
      'a probe processed by the fixed script',
      async () => {
        probe.publishJson('amq.topic', 'telemetry.probe.pi-probe', { data: { raw: 500 } });
        await probe.confirmed();
        return (await store.readings('probe', 'version')).length > 0;
      },
      { intervalMs: 250 },
    );
    await probe.close();
    expect(await debugCommand(env, '--replay-dead-letters')).toEqual({ replayed: 5 });
    const rows = await waitFor('the replayed readings stored', async () => {
      const found = (await store.readings('room', 'celsius')).filter((row) => row.value === 100);
      return found.length >= 5 && found;
    });
    // Stored under the device that published each, the fanout one under its user_id.
    expect(rows.map((row) => row.device).sort()).toEqual(
      [fanoutLogin, 'pi-0', 'pi-1', 'pi-2', 'pi-3'].sort(),
    );
    expect(await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)).toBe(0);

    const again = await openPublisher(vhost.amqpUrl);
    again.publishRaw('amq.topic', 'telemetry.room.pi-9', Buffer.from('not json'));
    await again.confirmed();
    await again.close();
    await waitFor(
      'one dead letter',
      async () => (await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)) === 1,
    );
    expect(await debugCommand(env, '--purge-dead-letters')).toEqual({ purged: 1 });
    expect(await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)).toBe(0);
  });
});
