import type { LogLine } from './deployment-events';

type Ansible = { source?: unknown; status?: unknown };

const ansible = (line: LogLine): Ansible | null =>
  line.data && (line.data as Ansible).source === 'ansible' ? (line.data as Ansible) : null;

/** A task's start: the debug line the backend writes before the task's result. */
const isTaskStart = (line: LogLine) =>
  line.level === 'debug' && ansible(line) !== null && ansible(line)!.status === undefined;

const belongsTo = (line: LogLine, task: string) =>
  line.message === task || line.message.startsWith(`${task}: `);

/**
 * The deployment log as a reader wants it: each Ansible task once (its start line gives way to
 * its result, and its "waiting (n/m)" retries to the latest one), without skipped tasks (those of
 * other databases, features not in use). Every other line stays as it is, in order.
 */
export function condenseLog(lines: readonly LogLine[]): LogLine[] {
  const shown: (LogLine | null)[] = [];
  /** Tasks started and not finished yet: their start line's (and latest retry's) index. */
  const open: { task: string; start: number; retry: number | null }[] = [];
  for (const line of lines) {
    const data = ansible(line);
    if (data && isTaskStart(line)) {
      open.push({ task: line.message, start: shown.length, retry: null });
      shown.push(line);
      continue;
    }
    const task = data
      ? [...open].reverse().find((candidate) => belongsTo(line, candidate.task))
      : undefined;
    if (!task) {
      shown.push(line);
      continue;
    }
    if (data!.status === 'retry') {
      if (task.retry !== null) shown[task.retry] = null;
      task.retry = shown.length;
      shown.push(line);
      continue;
    }
    shown[task.start] = null;
    if (task.retry !== null) shown[task.retry] = null;
    open.splice(open.indexOf(task), 1);
    if (data!.status !== 'skipped') shown.push(line);
  }
  return shown.filter((line): line is LogLine => line !== null);
}
