import type { InfraLogEntry } from '../infra';
import type { AnsibleLogEntry } from '../provision/ansible-events';
import type { DeploymentRun } from './deployment-runner';

/**
 * Ansible progress as deployment log lines: task starts and results (ok/changed/failed…),
 * retries and warnings; the per-host summary closes the run.
 */
export function ansibleLogger(run: Pick<DeploymentRun, 'log'>): (entry: AnsibleLogEntry) => void {
  return (entry) => {
    switch (entry.kind) {
      case 'task-start':
        void run.log({ level: 'debug', message: entry.task, data: { source: 'ansible' } });
        return;
      case 'task-result': {
        const failed = entry.status === 'failed' || entry.status === 'unreachable';
        void run.log({
          level: failed && !entry.ignored ? 'error' : 'info',
          message: entry.message ? `${entry.task}: ${entry.message}` : entry.task,
          data: { source: 'ansible', status: entry.status, host: entry.host },
        });
        return;
      }
      case 'retry':
        void run.log({
          level: 'info',
          message: `${entry.task}: waiting (${entry.attempt}/${entry.retries})`,
          data: { source: 'ansible', status: 'retry' },
        });
        return;
      case 'stats':
        for (const [host, stats] of Object.entries(entry.hosts)) {
          void run.log({
            level: 'info',
            message: `${host}: ${stats.ok} ok, ${stats.changed} changed, ${stats.failures} failed`,
            data: { source: 'ansible', changed: stats.changed },
          });
        }
        return;
      case 'output':
        if (entry.line.trim()) {
          void run.log({ level: 'warn', message: entry.line, data: { source: 'ansible' } });
        }
        return;
      case 'play-start':
        return;
    }
  };
}

/** Terraform's JSON events as deployment log lines (resource and action kept as data). */
export function infraLogger(run: Pick<DeploymentRun, 'log'>): (entry: InfraLogEntry) => void {
  return (entry) => {
    if (entry.level === 'debug') return;
    void run.log({
      level: entry.level,
      message: entry.message,
      data: {
        source: 'terraform',
        ...(entry.resource ? { resource: entry.resource } : {}),
        ...(entry.action ? { action: entry.action } : {}),
      },
    });
  };
}
