import { describe, expect, it } from 'vitest';
import { parseContainerRow } from './container-rows';

/** A `docker ps --format '{{json .}}'` line as Docker 24 prints it for a compose service. */
function psLine(service: string, state: string, status: string): string {
  return JSON.stringify({
    ID: `id-${service}`,
    Labels: `com.docker.compose.project=fs-p1,com.docker.compose.service=${service},com.docker.compose.version=2.21.0`,
    State: state,
    Status: status,
  });
}

describe('parseContainerRow (docker ps lines of a platform)', () => {
  it.each([
    ['Up 5 minutes (healthy)', 'healthy'],
    ['Up 3 minutes (unhealthy)', 'unhealthy'],
    ['Up 4 seconds (health: starting)', 'starting'],
    ['Up 2 hours', null],
  ])('reads the health Docker appends to "%s" as %s', (status, health) => {
    expect(parseContainerRow(psLine('database', 'running', status))).toEqual({
      id: 'id-database',
      service: 'database',
      state: 'running',
      health,
    });
  });

  it('drops a one-shot service that exited well, and keeps one that failed', () => {
    expect(parseContainerRow(psLine('database-setup', 'exited', 'Exited (0) 1 minute ago'))).toBe(
      null,
    );
    expect(
      parseContainerRow(psLine('database-setup', 'exited', 'Exited (1) 1 minute ago')),
    ).toMatchObject({ service: 'database-setup', state: 'exited', health: null });
  });
});
