import { computed, ref, watch, type Ref } from 'vue';
import { api, type Schemas } from '../../api/client';
import { unwrap } from '../../api/errors';
import { useLoader } from '../../composables/use-loader';
import { usePolling } from '../../composables/use-polling';
import { isBusy, type Platform } from './platform-status';

/** One platform and its deployments (newest first), refreshed while something runs. */
export function usePlatform(id: Ref<string>) {
  const platform = ref<Platform>();
  const deployments = ref<Schemas['DeploymentDto'][]>([]);
  const busy = computed(
    () =>
      (platform.value !== undefined && isBusy(platform.value.status)) ||
      deployments.value.some((item) => item.status === 'queued' || item.status === 'running'),
  );

  const { loadError, load } = useLoader(async () => {
    const [one, list] = await Promise.all([
      api.GET('/api/v1/platforms/{id}', { params: { path: { id: id.value } } }),
      api.GET('/api/v1/deployments', { params: { query: { targetId: id.value } } }),
    ]);
    platform.value = unwrap(one);
    deployments.value = unwrap(list);
  }, 'Could not load the platform');

  watch(id, load, { immediate: true });
  usePolling(busy, load, 5000);
  return { platform, deployments, loadError, busy, load };
}
