import type { Readable } from 'node:stream';

/**
 * Newline-delimited JSON between the processor and its script host, over a plain pipe instead of
 * Node's IPC channel: Node's channel buffers a message of any size before it is parsed (the
 * reader's length prefix or missing newline decides), and its "advanced" mode deserializes any V8
 * value. Here every line is capped before it is buffered, and only JSON is parsed.
 */
export function readLines(
  stream: Readable,
  maxLineBytes: number,
  onLine: (line: string) => void,
  onTooLong: () => void,
): void {
  let chunks: Buffer[] = [];
  let size = 0;
  let stopped = false;
  stream.on('data', (chunk: Buffer) => {
    if (stopped) return;
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, end);
      if (size + piece.length > maxLineBytes) return tooLong();
      const line = size === 0 ? piece : Buffer.concat([...chunks, piece]);
      chunks = [];
      size = 0;
      onLine(line.toString('utf8'));
      if (stopped) return;
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    size += rest.length;
    if (size > maxLineBytes) return tooLong();
    if (rest.length > 0) chunks.push(rest);
  });
  function tooLong(): void {
    stopped = true;
    chunks = [];
    onTooLong();
  }
}

/** One JSON value per line; JSON.stringify never emits a raw newline. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
