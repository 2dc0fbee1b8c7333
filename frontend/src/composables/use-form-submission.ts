import { ref } from 'vue';
import { ApiFailure } from '../api/errors';

/**
 * What every form does with a submission: `busy` while it runs, the API's per-field errors shown
 * next to their fields, any other failure as one message. `codeFields` puts an error code on a
 * field (e.g. EMAIL_TAKEN next to the email).
 */
export function useFormSubmission(codeFields: Record<string, string> = {}) {
  const busy = ref(false);
  const error = ref('');
  const fieldErrors = ref<Record<string, string>>({});
  /** The API's answer to the last failed submission, for forms that place errors by other details. */
  const failure = ref<ApiFailure>();

  function clearErrors(): void {
    error.value = '';
    fieldErrors.value = {};
    failure.value = undefined;
  }

  async function submit(action: () => Promise<void>, fallbackMessage: string): Promise<void> {
    busy.value = true;
    clearErrors();
    try {
      await action();
    } catch (thrown) {
      if (thrown instanceof ApiFailure) {
        failure.value = thrown;
        fieldErrors.value = thrown.fieldErrors();
        const field = codeFields[thrown.code];
        if (field) fieldErrors.value[field] = thrown.message;
        if (Object.keys(fieldErrors.value).length === 0) error.value = thrown.message;
      } else {
        error.value = fallbackMessage;
      }
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, fieldErrors, failure, clearErrors, submit };
}
