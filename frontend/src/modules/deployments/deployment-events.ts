import type { Schemas } from '../../api/client';

export type DeploymentStatus = Schemas['DeploymentDto']['status'];

/*
 * The payloads of GET /deployments/:id/events. OpenAPI describes the stream only as
 * `text/event-stream`, so the event shapes are written here, next to the one reader of them
 * (the backend's `deployment-events.ts` is their source).
 */

/** `event: log`, `id: <seq>`. */
export interface LogLine {
  seq: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  step: string | null;
  message: string;
  data: Record<string, unknown> | null;
  createdAt: string;
}

/** `event: status`. */
export interface StatusChange {
  status: DeploymentStatus;
  step: string | null;
  error: string | null;
}

export const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled'];

export const ACTION_LABELS: Record<Schemas['DeploymentDto']['action'], string> = {
  launch: 'Launch',
  destroy: 'Destroy',
  'update-processor': 'Processor update',
  dump: 'Dump',
  restore: 'Restore',
  'health-check': 'Health check',
  backup: 'Backup',
  'restore-backup': 'Restore from a backup',
  'restore-drill': 'Restore drill',
  'device-import': 'Device import',
  'readings-retention': 'Readings retention',
  'reading-alerts': 'Grafana reading alerts',
};

export const DEPLOYMENT_SEVERITY: Record<DeploymentStatus, string> = {
  queued: 'secondary',
  running: 'info',
  succeeded: 'success',
  failed: 'danger',
  cancelled: 'warn',
};
