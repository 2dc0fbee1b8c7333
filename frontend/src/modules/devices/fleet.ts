import type { Schemas } from '../../api/client';

/**
 * A device of the fleet list. `online`, `lastSeenAt` and `lastReadingAt` come with the fleet's
 * live status (issue 14 item 5) when the API gives it; the list shows them only then.
 */
export type FleetDevice = Schemas['DeviceDto'] & {
  online?: boolean | null;
  lastSeenAt?: string | null;
  lastReadingAt?: string | null;
  readingsLastHour?: number | null;
};

export type DeviceStatusFilter = 'active' | 'revoked' | 'all';

export interface FleetFilters {
  status: DeviceStatusFilter;
  /** `key:value` */
  label: string;
  prefix: string;
  /** Minutes without a stored reading (a whole number), or empty. */
  silentMinutes: string;
}

export type FleetQuery = {
  status?: 'active' | 'revoked';
  label?: string;
  prefix?: string;
  silentForMinutes?: number;
};

type FilterField = 'label' | 'prefix' | 'silentMinutes';

const LABEL_FILTER = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?:.{0,255}$/;
const PREFIX_FILTER = /^[a-z0-9-]{1,63}$/;

/** The list's query from the filter fields, or each field's problem (the API's own rules). */
export function fleetQuery(
  filters: FleetFilters,
): { ok: true; query: FleetQuery } | { ok: false; problems: Partial<Record<FilterField, string>> } {
  const label = filters.label.trim();
  const prefix = filters.prefix.trim();
  const problems: Partial<Record<FilterField, string>> = {};
  if (label && !LABEL_FILTER.test(label)) problems.label = 'Write the label as key:value';
  if (prefix && !PREFIX_FILTER.test(prefix)) {
    problems.prefix = 'Names hold only lowercase letters, digits and "-"';
  }
  const silent = filters.silentMinutes.trim();
  if (silent && !(/^\d{1,6}$/.test(silent) && Number(silent) >= 1 && Number(silent) <= 525_600)) {
    problems.silentMinutes = 'A whole number of minutes, 1 or more';
  }
  if (problems.label || problems.prefix || problems.silentMinutes) return { ok: false, problems };
  return {
    ok: true,
    query: {
      ...(filters.status === 'all' ? {} : { status: filters.status }),
      ...(label ? { label } : {}),
      ...(prefix ? { prefix } : {}),
      ...(silent ? { silentForMinutes: Number(silent) } : {}),
    },
  };
}

/** A time as the list shows it, or a dash. */
export function shownTime(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '—';
}
