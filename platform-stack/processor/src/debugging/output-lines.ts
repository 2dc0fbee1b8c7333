import type { Readable } from 'node:stream';

/**
 * Splits a child's output into lines, keeping at most `maxLineBytes` of each (the rest of a long
 * line is dropped, not buffered), so a script printing without end costs bounded memory and never
 * blocks on a full pipe.
 */
export function forEachOutputLine(
  stream: Readable,
  maxLineBytes: number,
  onLine: (line: string) => void,
): void {
  let chunks: Buffer[] = [];
  let size = 0;
  const take = (piece: Buffer) => {
    const room = maxLineBytes - size;
    if (room <= 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    chunks.push(kept);
    size += kept.length;
  };
  const emit = () => {
    const line = Buffer.concat(chunks).toString('utf8');
    chunks = [];
    size = 0;
    onLine(line);
  };
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, end));
      emit();
      start = end + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  });
  stream.on('end', () => {
    if (size > 0) emit();
  });
}
