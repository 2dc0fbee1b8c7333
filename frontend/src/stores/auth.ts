import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, useAuthHandlers, type Schemas } from '../api/client';
import { unwrap } from '../api/errors';

const REFRESH_KEY = 'fieldstation.refreshToken';

/**
 * The signed-in user and their tokens. The access token lives in memory only; the refresh
 * token is kept in localStorage so a reload keeps the session (it rotates on every use).
 */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<Schemas['UserDto']>();
  const accessToken = ref<string>();
  let refreshing: Promise<boolean> | undefined;

  const isSignedIn = computed(() => user.value !== undefined);

  function accept(tokens: Schemas['TokensDto']): void {
    user.value = tokens.user;
    accessToken.value = tokens.accessToken;
    localStorage.setItem(REFRESH_KEY, tokens.refreshToken);
  }

  function forget(): void {
    user.value = undefined;
    accessToken.value = undefined;
    localStorage.removeItem(REFRESH_KEY);
  }

  async function login(email: string, password: string): Promise<void> {
    accept(unwrap(await api.POST('/api/v1/auth/login', { body: { email, password } })));
  }

  async function register(email: string, username: string, password: string): Promise<void> {
    unwrap(await api.POST('/api/v1/auth/register', { body: { email, username, password } }));
    await login(email, password);
  }

  /** One refresh at a time: parallel 401s wait for the same rotation. */
  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      const refreshToken = localStorage.getItem(REFRESH_KEY);
      if (!refreshToken) return false;
      const result = await api.POST('/api/v1/auth/refresh', { body: { refreshToken } });
      if (!result.data) {
        forget();
        return false;
      }
      accept(result.data);
      return true;
    })().finally(() => (refreshing = undefined));
    return refreshing;
  }

  async function logout(): Promise<void> {
    const refreshToken = localStorage.getItem(REFRESH_KEY);
    forget();
    if (refreshToken) await api.POST('/api/v1/auth/logout', { body: { refreshToken } });
  }

  useAuthHandlers({ accessToken: () => accessToken.value, refresh });

  return { user, isSignedIn, login, register, refresh, logout };
});
