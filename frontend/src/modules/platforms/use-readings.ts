import { reactive, ref } from 'vue';
import { api, type Schemas } from '../../api/client';
import { unwrap } from '../../api/errors';
import { useLoader } from '../../composables/use-loader';

export type Reading = Schemas['ReadingDto'];

/**
 * The newest reading time each platform's readings reads have shown on this page. The health
 * check samples the host once a minute; a read over SSH (Connect devices, Data) is fresher, so
 * the header must not say "No reading yet" under a table that shows one.
 */
const newestSeen = reactive(new Map<string, string>());

export function noteReadingsSeen(platformId: string, readings: Reading[]): void {
  const newest = readings
    .map((reading) => reading.time)
    .sort()
    .at(-1);
  const known = newestSeen.get(platformId);
  if (newest && (!known || Date.parse(newest) > Date.parse(known))) {
    newestSeen.set(platformId, newest);
  }
}

/** The later of the health check's last reading and the newest one a read has shown. */
export function latestReadingAt(
  platformId: string,
  fromHealthCheck: string | null | undefined,
): string | undefined {
  const seen = newestSeen.get(platformId);
  if (!fromHealthCheck) return seen;
  if (!seen) return fromHealthCheck;
  return Date.parse(seen) > Date.parse(fromHealthCheck) ? seen : fromHealthCheck;
}

/** The newest `limit` readings of a platform, read on demand (each read is an SSH round trip). */
export function useReadings(platformId: () => string, limit: number) {
  const readings = ref<Reading[]>();
  const { loading, loadError, load } = useLoader(async () => {
    readings.value = unwrap(
      await api.GET('/api/v1/platforms/{id}/readings', {
        params: { path: { id: platformId() }, query: { limit } },
      }),
    );
    noteReadingsSeen(platformId(), readings.value);
  }, 'Could not read the readings');
  return { readings, loading, loadError, load };
}

/** A reading's clock time, with its date when it is not from today (local time). */
export function readingTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  return at.toDateString() === now.toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}
export const readingData = (data: Record<string, unknown>) => JSON.stringify(data);
