import { RingBuffer } from './ring-buffer';

/** One line the script host wrote: the script's `ctx.log`, the host's own messages, `console.log`. */
export interface ScriptLogEntry {
  /** ISO-8601. */
  time: string;
  level: string;
  /** `user-script` for `ctx.log`, `script-host` for the host's own messages, `output` otherwise. */
  source: string;
  message: string;
  /** The fields given to `ctx.log`, as JSON, cut to {@link MAX_FIELD_CHARS}. */
  fields: string | null;
}

export const SCRIPT_LOG_CAPACITY = 200;
const MAX_MESSAGE_CHARS = 2000;
const MAX_FIELD_CHARS = 2000;
const KNOWN_KEYS = new Set(['time', 'level', 'msg', 'component']);

/**
 * The last {@link SCRIPT_LOG_CAPACITY} lines of the script host's output (bounded per line too),
 * for the Processing tab. The host runs with an empty environment and holds no secret, so these
 * lines cannot carry one of the processor's.
 */
export class ScriptLog {
  private readonly lines: RingBuffer<ScriptLogEntry>;

  constructor(capacity = SCRIPT_LOG_CAPACITY) {
    this.lines = new RingBuffer(capacity);
  }

  add(line: string, now = new Date()): void {
    if (line.trim() === '') return;
    this.lines.push(parseLine(line, now));
  }

  entries(): ScriptLogEntry[] {
    return this.lines.toArray();
  }

  get droppedCount(): number {
    return this.lines.droppedCount;
  }
}

function parseLine(line: string, now: Date): ScriptLogEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      time: now.toISOString(),
      level: 'info',
      source: 'output',
      message: cut(line, MAX_MESSAGE_CHARS),
      fields: null,
    };
  }
  const record = parsed as Record<string, unknown>;
  const extra = Object.fromEntries(Object.entries(record).filter(([key]) => !KNOWN_KEYS.has(key)));
  const time =
    typeof record.time === 'string' && !Number.isNaN(Date.parse(record.time))
      ? record.time
      : now.toISOString();
  return {
    time,
    level: typeof record.level === 'string' ? cut(record.level, 10) : 'info',
    source: typeof record.component === 'string' ? cut(record.component, 40) : 'output',
    message: cut(typeof record.msg === 'string' ? record.msg : line, MAX_MESSAGE_CHARS),
    fields: Object.keys(extra).length > 0 ? cut(JSON.stringify(extra), MAX_FIELD_CHARS) : null,
  };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
