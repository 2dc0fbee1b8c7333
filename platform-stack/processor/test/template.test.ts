import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '../src/log/logger';
import { ScriptSandbox } from '../src/script/script-sandbox';

const TEMPLATE = path.join(__dirname, '..', 'template', 'process.js');
const HOST = path.join(__dirname, '..', 'dist', 'script-host.cjs');

describe('the downloadable script template', () => {
  let sandbox: ScriptSandbox;

  beforeAll(async () => {
    sandbox = await ScriptSandbox.start({
      scriptPath: TEMPLATE,
      timeoutMs: 1000,
      logger: new Logger('error'),
      hostFile: HOST,
    });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('converts a raw sensor value, drops outliers and keeps other readings unchanged', async () => {
    const reading = (data: Record<string, unknown>) => ({
      measurement: 'room',
      device: 'pi1',
      time: 1000,
      data,
    });
    const [converted, outlier, other] = await sandbox.run([
      reading({ raw: 2150 }),
      reading({ raw: 99999 }),
      reading({ temp: 3 }),
    ]);
    expect(converted).toEqual({ ok: true, readings: [reading({ raw: 2150, celsius: 21.5 })] });
    expect(outlier).toEqual({ ok: true, readings: [] });
    expect(other).toEqual({ ok: true, readings: [reading({ temp: 3 })] });
  });
});
