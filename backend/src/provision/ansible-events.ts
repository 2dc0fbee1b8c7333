export type AnsibleTaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface AnsibleHostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

/** One structured log entry of a playbook run, as the deployment log stores it. */
export type AnsibleLogEntry =
  | { kind: 'play-start'; play: string }
  | { kind: 'task-start'; task: string }
  | {
      kind: 'task-result';
      task: string;
      host: string;
      status: AnsibleTaskStatus;
      /** Set for failed/unreachable results ("output hidden (no_log)" for secret tasks). */
      message?: string;
      /** A failure the playbook tolerates (`ignore_errors`). */
      ignored?: boolean;
    }
  | { kind: 'retry'; task: string; host: string; attempt: number; retries: number }
  | { kind: 'stats'; hosts: Record<string, AnsibleHostStats> }
  /** Anything Ansible printed outside the callback: warnings, syntax errors. */
  | { kind: 'output'; stream: 'stdout' | 'stderr'; line: string };

/**
 * Parses one stdout line of the `fieldstation_jsonl` callback (playbooks/callback_plugins).
 * Lines that are not its JSON events come back as plain output.
 */
export function parseAnsibleLine(line: string): AnsibleLogEntry {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { kind: 'output', stream: 'stdout', line };
  }
  const text = (key: string) => String(event[key] ?? '');
  switch (event.event) {
    case 'play_start':
      return { kind: 'play-start', play: text('play') };
    case 'task_start':
      return { kind: 'task-start', task: text('task') };
    case 'task_result':
      return {
        kind: 'task-result',
        task: text('task'),
        host: text('host'),
        status: text('status') as AnsibleTaskStatus,
        ...(event.message !== undefined && { message: text('message') }),
        ...(event.ignored !== undefined && { ignored: Boolean(event.ignored) }),
      };
    case 'retry':
      return {
        kind: 'retry',
        task: text('task'),
        host: text('host'),
        attempt: Number(event.attempt),
        retries: Number(event.retries),
      };
    case 'stats':
      return { kind: 'stats', hosts: event.hosts as Record<string, AnsibleHostStats> };
    default:
      return { kind: 'output', stream: 'stdout', line };
  }
}
