import { ONE_SHOT_SERVICES } from '@fieldstation/platform-stack';

/** Docker's health of a container with a health check; null when it has none. */
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting';

/** One container of a platform, as `docker ps` shows it. */
export interface ContainerRow {
  id: string;
  service: string;
  state: string;
  health: ContainerHealth | null;
}

const HEALTH_IN_STATUS: Record<string, ContainerHealth> = {
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  'health: starting': 'starting',
};

/**
 * One line of `docker ps --format '{{json .}}'`: the compose service from its labels, the state,
 * and the health Docker appends to the status ("Up 2 minutes (health: starting)"). Null for a
 * one-shot service that finished well: it is done, not down.
 */
export function parseContainerRow(line: string): ContainerRow | null {
  const row = JSON.parse(line) as { ID: string; Labels: string; State: string; Status: string };
  const service = /com\.docker\.compose\.service=([^,]+)/.exec(row.Labels)?.[1] ?? row.ID;
  if (ONE_SHOT_SERVICES.includes(service) && /^Exited \(0\)/.test(row.Status)) return null;
  const shown = /\((healthy|unhealthy|health: starting)\)/.exec(row.Status)?.[1];
  return {
    id: row.ID,
    service,
    state: row.State,
    health: shown ? HEALTH_IN_STATUS[shown]! : null,
  };
}
