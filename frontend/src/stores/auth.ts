import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, useAuthHandlers, type Schemas } from '../api/client';
import { unwrap } from '../api/errors';

const REFRESH_LOCK = 'fieldstation.refresh';

/** Web Locks exist only in secure contexts (HTTPS, localhost); elsewhere tabs go uncoordinated. */
async function oneTabAtATime(task: () => Promise<boolean>): Promise<boolean> {
  if (!('locks' in navigator)) return task();
  return await navigator.locks.request(REFRESH_LOCK, task);
}

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

  async function rotate(): Promise<boolean> {
    const result = await api.POST('/api/v1/auth/refresh', { body: {} });
    if (!result.data) {
      forget();
      return false;
    }
    accept(result.data);
    return true;
  }

  /**
   * One refresh at a time: parallel 401s wait for the same rotation, and other tabs (which share
   * the cookie) wait on a Web Lock, so none presents a token another tab has just replaced (that
   * would read as a copied token and end the session).
   */
  function refresh(): Promise<boolean> {
    refreshing ??= oneTabAtATime(rotate).finally(() => (refreshing = undefined));
    return refreshing;
  }

  async function logout(): Promise<void> {
    forget();
    await api.POST('/api/v1/auth/logout', { body: {} });
  }

  useAuthHandlers({ accessToken: () => accessToken.value, refresh });

  return { user, isSignedIn, login, register, refresh, logout };
});
