import { ref } from 'vue';
import { api, type Schemas } from '../../api/client';
import { unwrap } from '../../api/errors';
import { useLoader } from '../../composables/use-loader';

export type Reading = Schemas['ReadingDto'];

/** The newest `limit` readings of a platform, read on demand (each read is an SSH round trip). */
export function useReadings(platformId: () => string, limit: number) {
  const readings = ref<Reading[]>();
  const { loading, loadError, load } = useLoader(async () => {
    readings.value = unwrap(
      await api.GET('/api/v1/platforms/{id}/readings', {
        params: { path: { id: platformId() }, query: { limit } },
      }),
    );
  }, 'Could not read the readings');
  return { readings, loading, loadError, load };
}

export const readingTime = (iso: string) => new Date(iso).toLocaleTimeString();
export const readingData = (data: Record<string, unknown>) => JSON.stringify(data);
