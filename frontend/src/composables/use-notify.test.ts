import ToastService from 'primevue/toastservice';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from 'vue';
import { ApiFailure } from '../api/errors';
import { useNotify } from './use-notify';

describe('useNotify().attempt', () => {
  it('turns a failure into one error notification and says whether the action succeeded', async () => {
    const app = createApp({}).use(ToastService);
    const shown = vi.spyOn(app.config.globalProperties.$toast, 'add');
    const notify = app.runWithContext(() => useNotify());

    await expect(notify.attempt(async () => undefined, 'Could not delete')).resolves.toBe(true);
    expect(shown).not.toHaveBeenCalled();

    const failure = new ApiFailure('CREDENTIAL_IN_USE', 'The credential is in use');
    await expect(notify.attempt(() => Promise.reject(failure), 'Could not delete')).resolves.toBe(
      false,
    );
    expect(shown).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({
        severity: 'error',
        summary: 'Could not delete',
        detail: 'The credential is in use',
      }),
    );
  });
});
