/**
 * Longest line kept whole. Some remote commands answer one line of JSON (the fleet's per-device
 * figures, dead letters, a dry run), which stays far below this even for 10,000 devices; the
 * limit only keeps a runaway line from holding unbounded memory.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Appended to a line cut at {@link MAX_LINE_BYTES}, with the number of bytes dropped. */
export const truncationMarker = (droppedBytes: number): string =>
  ` … [line truncated: ${droppedBytes} more bytes dropped]`;

const NEWLINE = 0x0a;

/**
 * Cuts a chunked byte stream into whole lines (the last partial line is flushed at the end).
 * Linear in the bytes pushed and bounded in memory: each chunk is scanned once for newlines, the
 * bytes of an unfinished line are kept as chunks (never re-joined per push), and a line longer
 * than `maxLineBytes` keeps only its first `maxLineBytes` bytes plus a marker, so a remote command
 * printing an endless line without a newline cannot make the API slow or run out of memory.
 * Lines are decoded as UTF-8 once whole, so a character split across chunks stays intact.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private droppedBytes = 0;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Bytes of the unfinished line held now (at most `maxLineBytes`). */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (
      let newline = chunk.indexOf(NEWLINE, start);
      newline !== -1;
      newline = chunk.indexOf(NEWLINE, start)
    ) {
      this.keep(chunk.subarray(start, newline));
      this.emitPending(true);
      start = newline + 1;
    }
    this.keep(chunk.subarray(start));
  }

  flush(): void {
    if (this.pendingBytes > 0 || this.droppedBytes > 0) this.emitPending(false);
  }

  /** Keeps what still fits under the limit and only counts the rest. */
  private keep(part: Buffer): void {
    const room = this.maxLineBytes - this.pendingBytes;
    const kept = part.length <= room ? part : part.subarray(0, room);
    if (kept.length > 0) {
      // A copy: `part` may be a view into a large chunk that should not stay alive for its sake.
      this.pending.push(Buffer.from(kept));
      this.pendingBytes += kept.length;
    }
    this.droppedBytes += part.length - kept.length;
  }

  private emitPending(endedByNewline: boolean): void {
    let line = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
    if (this.droppedBytes > 0) line += truncationMarker(this.droppedBytes);
    else if (endedByNewline && line.endsWith('\r')) line = line.slice(0, -1);
    this.pending = [];
    this.pendingBytes = 0;
    this.droppedBytes = 0;
    this.emit(line);
  }
}
