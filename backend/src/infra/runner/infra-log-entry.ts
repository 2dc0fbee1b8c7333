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
  diagnostic?: {
    severity?: string;
    summary?: string;
    detail?: string;
    address?: string;
    snippet?: { context?: string | null; values?: unknown[]; function_call?: unknown };
  };
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
    const { severity = 'error', summary = '', detail, address, snippet } = parsed.diagnostic;
    // A diagnostic from evaluating an expression (no resource instance address, or a function
    // call or values in its snippet) quotes what the expression produced: a file's content, an
    // environment value. Only its summary is kept; a provider's or provisioner's detail stays.
    const quotesValues =
      snippet !== undefined &&
      (address === undefined ||
        snippet.function_call !== undefined ||
        (snippet.values?.length ?? 0) > 0);
    const keptDetail = quotesValues ? undefined : detail;
    entry.diagnostic = { severity, summary, ...(keptDetail ? { detail: keptDetail } : {}) };
    const resource = address ?? resourceOfContext(snippet?.context);
    if (resource) entry.resource = resource;
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

/** `resource.aws_instance.platform.ami` (a snippet's context in JSON configs: a path into the config) → its resource address. */
function resourceOfContext(context: string | null | undefined): string | undefined {
  const match = /^(resource\.|data\.)([\w-]+)\.([\w-]+)(\.|$)/.exec(context ?? '');
  if (!match) return undefined;
  return `${match[1] === 'data.' ? 'data.' : ''}${match[2]}.${match[3]}`;
}
