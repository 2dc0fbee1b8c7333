import { useToast } from 'primevue/usetoast';
import { ApiFailure } from '../api/errors';

/** The one place errors and confirmations reach the user. */
export function useNotify() {
  const toast = useToast();
  function error(error: unknown, summary = 'Something went wrong'): void {
    const detail =
      error instanceof ApiFailure || error instanceof Error ? error.message : String(error);
    toast.add({ severity: 'error', summary, detail, life: 6000 });
  }
  return {
    success(summary: string, detail?: string) {
      toast.add({ severity: 'success', summary, detail, life: 3000 });
    },
    warn(summary: string, detail?: string) {
      toast.add({ severity: 'warn', summary, detail, life: 8000 });
    },
    error,
    /**
     * Runs an action whose failure has no place on the page: a failure becomes an error
     * notification titled `failureSummary`. Resolves to whether the action succeeded.
     */
    async attempt(action: () => Promise<unknown>, failureSummary: string): Promise<boolean> {
      try {
        await action();
        return true;
      } catch (failure) {
        error(failure, failureSummary);
        return false;
      }
    },
  };
}
