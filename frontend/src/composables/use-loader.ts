import { ref } from 'vue';

/** The message of anything thrown: an ApiFailure's or Error's message, else its text. */
export function failureMessage(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/**
 * What every page does to load its data: `loading` until the first load ends, and a failure as
 * `loadError` ("<what failed>: <why>"), cleared by the next load that succeeds. `load` never
 * throws, so it can be polled and awaited anywhere.
 */
export function useLoader(fetch: () => Promise<void>, failureSummary: string) {
  const loading = ref(true);
  const loadError = ref('');

  async function load(): Promise<void> {
    try {
      await fetch();
      loadError.value = '';
    } catch (failure) {
      loadError.value = `${failureSummary}: ${failureMessage(failure)}`;
    } finally {
      loading.value = false;
    }
  }

  return { loading, loadError, load };
}
