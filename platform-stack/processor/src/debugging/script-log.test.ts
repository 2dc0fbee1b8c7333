import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachOutputLine } from './output-lines';
import { SCRIPT_LOG_CAPACITY, ScriptLog } from './script-log';

const now = new Date('2026-12-02T08:00:00.000Z');

describe('ScriptLog', () => {
  it('turns a ctx.log line into time, level, source, message and fields', () => {
    const log = new ScriptLog();
    log.add(
      JSON.stringify({
        time: '2026-12-02T07:59:59.000Z',
        level: 'info',
        msg: 'converted',
        component: 'user-script',
        raw: 2150,
      }),
      now,
    );
    expect(log.entries()).toEqual([
      {
        time: '2026-12-02T07:59:59.000Z',
        level: 'info',
        source: 'user-script',
        message: 'converted',
        fields: '{"raw":2150}',
      },
    ]);
  });

  it('keeps console output that is not JSON as it is, and skips empty lines', () => {
    const log = new ScriptLog();
    log.add('plain text from console.log', now);
    log.add('   ', now);
    expect(log.entries()).toEqual([
      {
        time: now.toISOString(),
        level: 'info',
        source: 'output',
        message: 'plain text from console.log',
        fields: null,
      },
    ]);
  });

  it(`keeps the last ${SCRIPT_LOG_CAPACITY} lines, each cut to a bounded size`, () => {
    const log = new ScriptLog();
    for (let i = 0; i < SCRIPT_LOG_CAPACITY + 50; i++) log.add(`line ${i}`, now);
    log.add(JSON.stringify({ msg: 'x'.repeat(100_000), big: 'y'.repeat(100_000) }), now);
    const entries = log.entries();
    expect(entries).toHaveLength(SCRIPT_LOG_CAPACITY);
    expect(entries[0]!.message).toBe('line 51');
    expect(entries.at(-1)!.message.length).toBeLessThanOrEqual(2000);
    expect(entries.at(-1)!.fields!.length).toBeLessThanOrEqual(2000);
    expect(log.droppedCount).toBe(51);
  });
});

describe('forEachOutputLine', () => {
  it('splits a stream into lines and cuts a long line instead of buffering all of it', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    forEachOutputLine(stream, 10, (line) => lines.push(line));
    stream.write('first\nsec');
    stream.write(`ond\n${'z'.repeat(1000)}`);
    stream.write('\nlast');
    stream.end();
    return new Promise<void>((resolve) =>
      stream.on('end', () => {
        expect(lines).toEqual(['first', 'second', 'z'.repeat(10), 'last']);
        resolve();
      }),
    );
  });
});
