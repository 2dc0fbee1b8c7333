import type { RouteRecordRaw } from 'vue-router';

export const credentialRoutes: RouteRecordRaw[] = [
  { path: 'credentials', name: 'credentials', component: () => import('./CredentialsPage.vue') },
];
