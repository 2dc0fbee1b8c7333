import { onScopeDispose, watch, type Ref } from 'vue';

/** Calls `refresh` every `intervalMs` while `active` is true (e.g. while something is busy). */
export function usePolling(
  active: Ref<boolean>,
  refresh: () => Promise<unknown>,
  intervalMs = 4000,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    clearTimeout(timer);
    if (!active.value) return;
    timer = setTimeout(async () => {
      await refresh().catch(() => undefined);
      schedule();
    }, intervalMs);
  };
  watch(active, schedule, { immediate: true });
  onScopeDispose(() => clearTimeout(timer));
}
