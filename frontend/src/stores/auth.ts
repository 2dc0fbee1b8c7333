import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, useAuthHandlers, type Schemas } from '../api/client';
import { unwrap } from '../api/errors';

/**
 * The signed-in user and their access token, in memory only. The refresh token never reaches
 * page scripts: the API keeps it in an httpOnly cookie sent only to /api/v1/auth, so after a
 * reload `refresh()` restores the session from that cookie.
 */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<Schemas['UserDto']>();
  const accessToken = ref<string>();
  let refreshing: Promise<boolean> | undefined;

  const isSignedIn = computed(() => user.value !== undefined);

  function accept(tokens: Schemas['TokensDto']): void {
    user.value = tokens.user;
    accessToken.value = tokens.accessToken;
  }

  function forget(): void {
    user.value = undefined;
    accessToken.value = undefined;
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
      const result = await api.POST('/api/v1/auth/refresh', { body: {} });
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
    forget();
    await api.POST('/api/v1/auth/logout', { body: {} });
  }

  useAuthHandlers({ accessToken: () => accessToken.value, refresh });

  return { user, isSignedIn, login, register, refresh, logout };
});
