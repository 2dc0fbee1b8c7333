import { useToast } from 'primevue/usetoast';
import { ApiFailure } from '../api/errors';

/** The one place errors and confirmations reach the user. */
export function useNotify() {
  const toast = useToast();
  return {
    success(summary: string, detail?: string) {
      toast.add({ severity: 'success', summary, detail, life: 3000 });
    },
    warn(summary: string, detail?: string) {
      toast.add({ severity: 'warn', summary, detail, life: 8000 });
    },
    error(error: unknown, summary = 'Something went wrong') {
      const detail =
        error instanceof ApiFailure || error instanceof Error ? error.message : String(error);
      toast.add({ severity: 'error', summary, detail, life: 6000 });
    },
  };
}
