import type { ProcessorDeviceFigures } from '../provision/platform-host';
import type { Device } from './device.entity';
import type { ListDevicesQuery } from './dto/device.dto';

/**
 * What the running platform says about its fleet now, read once per request: open broker
 * connections per user (management API) and the processor's per-device figures. Either is null
 * when it could not be asked (platform not running, no answer within the limit): unknown.
 */
export interface LiveState {
  connections: Map<string, number> | null;
  figures: Record<string, ProcessorDeviceFigures> | null;
  at: Date;
}

/** A device with its live state (each figure null: unknown). */
export type DeviceWithStatus = Device & {
  connections: number | null;
  lastReadingAt: Date | null;
  readingsLastHour: number | null;
  /** Now while connected, else its last stored reading. */
  lastSeenAt: Date | null;
};

/** A revoked device has no broker user, so no connection, whatever the broker lists. */
export function withLiveState(device: Device, live: LiveState): DeviceWithStatus {
  const connections = live.connections
    ? device.revokedAt
      ? 0
      : (live.connections.get(device.name) ?? 0)
    : null;
  const figures = live.figures ? live.figures[device.name] : undefined;
  const lastReadingAt = figures ? new Date(figures.lastReadingAt) : null;
  const readingsLastHour = live.figures ? (figures?.readingsLastHour ?? 0) : null;
  const lastSeenAt = connections ? live.at : lastReadingAt;
  return { ...device, connections, lastReadingAt, readingsLastHour, lastSeenAt };
}

/**
 * The query's live filters (online, silent for more than N minutes; unknown matches neither) and
 * order (name, or last seen with the most recent first and never seen last).
 */
export function filterAndSort(
  devices: DeviceWithStatus[],
  query: ListDevicesQuery,
  live: LiveState,
): DeviceWithStatus[] {
  let kept = devices;
  if (query.online !== undefined) {
    const wanted = query.online === 'true';
    kept = kept.filter(
      ({ connections }) => connections !== null && (wanted ? connections > 0 : connections === 0),
    );
  }
  if (query.silentForMinutes !== undefined) {
    // Silent: no stored reading for that long; a device that never sent counts from its creation.
    const since = live.at.getTime() - query.silentForMinutes * 60_000;
    kept = kept.filter(
      (device) =>
        device.readingsLastHour !== null &&
        (device.lastReadingAt ?? device.createdAt).getTime() < since,
    );
  }
  if (query.sort === 'lastSeen') {
    kept = [...kept].sort(
      (a, b) => (b.lastSeenAt?.getTime() ?? -Infinity) - (a.lastSeenAt?.getTime() ?? -Infinity),
    );
  }
  return kept;
}

/** Devices the processor stored readings of that are not active in the registry. */
export function unknownPublishers(
  active: Set<string>,
  live: LiveState,
): { name: string; lastReadingAt: Date; readingsLastHour: number }[] {
  return Object.entries(live.figures ?? {})
    .filter(([name]) => !active.has(name))
    .map(([name, figures]) => ({
      name,
      lastReadingAt: new Date(figures.lastReadingAt),
      readingsLastHour: figures.readingsLastHour,
    }))
    .sort((a, b) => b.lastReadingAt.getTime() - a.lastReadingAt.getTime());
}
