import { describe, expect, it } from 'vitest';
import type { Device } from './device.entity';
import { filterAndSort, type LiveState, unknownPublishers, withLiveState } from './fleet-status';

const at = new Date('2026-12-02T08:00:00Z');
const minutesAgo = (minutes: number) => new Date(at.getTime() - minutes * 60_000);
const device = (name: string, createdMinutesAgo = 120) =>
  ({ name, createdAt: minutesAgo(createdMinutesAgo), revokedAt: null }) as Device;
const live: LiveState = {
  at,
  connections: new Map([['online', 1]]),
  figures: {
    online: { lastReadingAt: minutesAgo(1).toISOString(), readingsLastHour: 30 },
    quiet: { lastReadingAt: minutesAgo(45).toISOString(), readingsLastHour: 2 },
    stranger: { lastReadingAt: minutesAgo(3).toISOString(), readingsLastHour: 5 },
  },
};
const fleet = [device('never'), device('new', 1), device('online'), device('quiet')];

describe('fleet status', () => {
  it('gives each device its figures; last seen is now while connected', () => {
    const [never, , online, quiet] = fleet.map((d) => withLiveState(d, live));
    expect(online).toMatchObject({ connections: 1, readingsLastHour: 30, lastSeenAt: at });
    expect(quiet).toMatchObject({
      connections: 0,
      readingsLastHour: 2,
      lastSeenAt: minutesAgo(45),
    });
    expect(never).toMatchObject({ lastReadingAt: null, readingsLastHour: 0, lastSeenAt: null });
    const unknown = withLiveState(device('x'), { at, connections: null, figures: null });
    expect(unknown).toMatchObject({ connections: null, readingsLastHour: null, lastSeenAt: null });
  });

  it('keeps devices silent for more than N minutes (never sent: since creation); unknown matches none', () => {
    const names = (query: object, state = live) =>
      filterAndSort(
        fleet.map((d) => withLiveState(d, state)),
        query,
        state,
      ).map(({ name }) => name);
    expect(names({ silentForMinutes: 30 })).toEqual(['never', 'quiet']);
    expect(names({ silentForMinutes: 60 })).toEqual(['never']);
    expect(names({ silentForMinutes: 1 }, { at, connections: null, figures: null })).toEqual([]);
    expect(names({ sort: 'lastSeen' })).toEqual(['online', 'quiet', 'never', 'new']);
  });

  it('lists publishers that are not active devices, most recent first', () => {
    expect(unknownPublishers(new Set(['online', 'quiet']), live)).toEqual([
      { name: 'stranger', lastReadingAt: minutesAgo(3), readingsLastHour: 5 },
    ]);
  });
});
