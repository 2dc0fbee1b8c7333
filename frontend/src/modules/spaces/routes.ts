import type { RouteRecordRaw } from 'vue-router';

export const spaceRoutes: RouteRecordRaw[] = [
  { path: 'spaces', name: 'spaces', component: () => import('./SpacesPage.vue') },
];
