import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../api/errors';
import { useLoader } from './use-loader';

describe('useLoader', () => {
  it('is loading until the first load ends and reports a failure with its reason', async () => {
    let answer: () => Promise<void> = () =>
      Promise.reject(new ApiFailure('NOT_FOUND', 'Platform not found'));
    const { loading, loadError, load } = useLoader(() => answer(), 'Could not load the platform');
    expect(loading.value).toBe(true);

    await load();
    expect(loading.value).toBe(false);
    expect(loadError.value).toBe('Could not load the platform: Platform not found');

    answer = () => Promise.resolve();
    await load();
    expect(loadError.value).toBe('');
  });

  it('names what was thrown when it is no Error', async () => {
    const { loadError, load } = useLoader(() => Promise.reject('offline'), 'Could not load');
    await load();
    expect(loadError.value).toBe('Could not load: offline');
  });
});
