import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_BYTES, truncationMarker } from './line-splitter';

function split(chunks: Buffer[], maxLineBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineBytes);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return lines;
}

describe('LineSplitter', () => {
  it('cuts lines across chunks, drops a CR before the newline and flushes the last partial line', () => {
    expect(split([Buffer.from('a\r\nb'), Buffer.from('c\n\nd'), Buffer.from('e')])).toEqual([
      'a',
      'bc',
      '',
      'de',
    ]);
    expect(split([Buffer.from('only\n')])).toEqual(['only']);
  });

  it('keeps a UTF-8 character that a chunk boundary splits', () => {
    const bytes = Buffer.from('température ✓\n');
    const cut = bytes.indexOf(0xa9); // second byte of "é"
    expect(split([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['température ✓']);
  });

  it('keeps the first maxLineBytes bytes of a long line and says how much it dropped', () => {
    expect(split([Buffer.from('abcdef'), Buffer.from('ghij\nnext\n')], 4)).toEqual([
      `abcd${truncationMarker(6)}`,
      'next',
    ]);
    expect(split([Buffer.from('abcdefgh')], 4)).toEqual([`abcd${truncationMarker(4)}`]);
  });

  it('reads a 50 MB line without a newline, in 64 KB chunks, into one bounded line (no quadratic re-scan, no unbounded buffer)', () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunks = 800; // 50 MiB
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    let heldAtMost = 0;
    for (let i = 0; i < chunks; i++) {
      splitter.push(chunk);
      heldAtMost = Math.max(heldAtMost, splitter.heldBytes);
    }
    splitter.push(Buffer.from('\nafter\n'));
    splitter.flush();

    expect(heldAtMost).toBe(MAX_LINE_BYTES);
    expect(lines).toEqual([
      'x'.repeat(MAX_LINE_BYTES) + truncationMarker(chunks * chunk.length - MAX_LINE_BYTES),
      'after',
    ]);
  });
});
