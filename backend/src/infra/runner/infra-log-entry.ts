/** One line of a deployment log produced by the infrastructure layer. */
export interface InfraLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The Terraform JSON UI message type (`apply_start`, `diagnostic`, …) or `stderr`/`stdout`. */
  type: string;
  /** Resource address, e.g. `aws_instance.platform`. */
  resource?: string;
  /** Planned or running action: `create`, `update`, `delete`, `replace`, … */
  action?: string;
  elapsedSeconds?: number;
  /** Present on `diagnostic` entries. */
  diagnostic?: { severity: string; summary: string; detail?: string };
  /** ISO-8601; Terraform's own timestamp when the line carried one. */
  timestamp: string;
}

export type InfraLogSink = (entry: InfraLogEntry) => void;

interface TerraformResourceRef {
  addr?: string;
}

interface TerraformJsonLine {
  '@level'?: string;
  '@message'?: string;
  '@timestamp'?: string;
  type?: string;
  hook?: { resource?: TerraformResourceRef; action?: string; elapsed_seconds?: number };
  change?: { resource?: TerraformResourceRef; action?: string };
  diagnostic?: { severity?: string; summary?: string; detail?: string; address?: string };
  outputs?: Record<string, { sensitive?: boolean }>;
}

const LEVELS: Record<string, InfraLogEntry['level']> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
};

/**
 * Turns one line of `tofu … -json` output into a log entry. Lines that are not JSON (tofu
 * prints a few plain lines, e.g. on crash) become plain `stdout` entries.
 */
export function parseTerraformLine(line: string): InfraLogEntry {
  let parsed: TerraformJsonLine;
  try {
    parsed = JSON.parse(line) as TerraformJsonLine;
  } catch {
    return { level: 'info', message: line, type: 'stdout', timestamp: new Date().toISOString() };
  }
  const type = parsed.type ?? 'log';
  const entry: InfraLogEntry = {
    level: LEVELS[parsed['@level'] ?? 'info'] ?? 'info',
    message: parsed['@message'] ?? '',
    type,
    timestamp: parsed['@timestamp'] ?? new Date().toISOString(),
  };
  const subject = parsed.hook ?? parsed.change;
  if (subject?.resource?.addr) entry.resource = subject.resource.addr;
  if (subject?.action) entry.action = subject.action;
  if (parsed.hook?.elapsed_seconds !== undefined)
    entry.elapsedSeconds = parsed.hook.elapsed_seconds;
  if (parsed.diagnostic) {
    const { severity = 'error', summary = '', detail, address } = parsed.diagnostic;
    entry.diagnostic = { severity, summary, ...(detail ? { detail } : {}) };
    if (address) entry.resource = address;
  }
  if (type === 'outputs' && parsed.outputs) {
    // The event can carry output values; the log keeps names only so nothing sensitive leaks.
    const names = Object.entries(parsed.outputs).map(([name, o]) =>
      o.sensitive ? `${name} (sensitive)` : name,
    );
    entry.message = `Outputs: ${names.join(', ') || 'none'}`;
  }
  return entry;
}
