import { describe, expect, it } from 'vitest';
import { condenseLog } from './condense-log';
import type { LogLine } from './deployment-events';

let seq = 0;
const line = (
  message: string,
  data: Record<string, unknown> | null = { source: 'ansible' },
  level: LogLine['level'] = 'info',
): LogLine => ({ seq: ++seq, level, step: 'configuring', message, data, createdAt: '' });
const start = (task: string) => line(task, { source: 'ansible' }, 'debug');
const result = (task: string, status: string, detail?: string) =>
  line(detail ? `${task}: ${detail}` : task, { source: 'ansible', status, host: 'h' });

describe('condenseLog', () => {
  it('shows each task once: the result replaces its start line', () => {
    const lines = [
      line('Step configuring started', null),
      start('fieldstation_stack : Copy the stack'),
      result('fieldstation_stack : Copy the stack', 'changed'),
      start('Wait for health'),
    ];
    expect(condenseLog(lines).map((l) => l.message)).toEqual([
      'Step configuring started',
      'fieldstation_stack : Copy the stack',
      // Still running: its start is what there is to show.
      'Wait for health',
    ]);
  });

  it("hides skipped tasks (another database's dump) with their start line", () => {
    const lines = [
      start('Dump PostgreSQL (custom format)'),
      result('Dump PostgreSQL (custom format)', 'changed'),
      start('Back up InfluxDB (portable format, one tar)'),
      result('Back up InfluxDB (portable format, one tar)', 'skipped'),
      start('Dump MongoDB (gzipped archive)'),
      result('Dump MongoDB (gzipped archive)', 'skipped'),
      line('localhost: 5 ok, 2 changed, 0 failed', { source: 'ansible', changed: 2 }),
    ];
    expect(condenseLog(lines).map((l) => l.message)).toEqual([
      'Dump PostgreSQL (custom format)',
      'localhost: 5 ok, 2 changed, 0 failed',
    ]);
  });

  it('keeps only the latest retry of a waiting task, and drops it once the task ends', () => {
    const task = 'Wait until the services report healthy';
    const waiting = [
      start(task),
      ...[1, 2, 3].map((n) => result(task, 'retry', `waiting (${n}/201)`)),
    ];
    expect(condenseLog(waiting).map((l) => l.message)).toEqual([task, `${task}: waiting (3/201)`]);
    const failed = { ...result(task, 'failed', 'processor unhealthy'), level: 'error' as const };
    expect(condenseLog([...waiting, failed])).toEqual([failed]);
  });

  it('leaves lines that are not Ansible task lines alone, in order', () => {
    const lines = [
      line('Terraform: creating', { source: 'terraform' }),
      line('[WARNING]: something', { source: 'ansible' }, 'warn'),
      line('Step verifying started', null),
    ];
    expect(condenseLog(lines)).toEqual(lines);
  });
});
