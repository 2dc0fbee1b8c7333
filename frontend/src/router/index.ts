import { createRouter, createWebHistory } from 'vue-router';
import AppLayout from '../layout/AppLayout.vue';
import { accountRoutes } from '../modules/account/routes';
import { authRoutes } from '../modules/auth/routes';
import { credentialRoutes } from '../modules/credentials/routes';
import { notificationRoutes } from '../modules/notifications/routes';
import { platformRoutes } from '../modules/platforms/routes';
import { spaceRoutes } from '../modules/spaces/routes';
import { useAuthStore } from '../stores/auth';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    ...authRoutes,
    {
      path: '/',
      component: AppLayout,
      children: [
        { path: '', redirect: '/platforms' },
        ...platformRoutes,
        ...spaceRoutes,
        ...credentialRoutes,
        ...notificationRoutes,
        ...accountRoutes,
      ],
    },
  ],
});

// Pages need a session; after a reload the refresh cookie restores it before rendering.
router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const auth = useAuthStore();
  if (auth.isSignedIn || (await auth.refresh())) return true;
  return { name: 'login', query: { redirect: to.fullPath } };
});
