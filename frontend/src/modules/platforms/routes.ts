import type { RouteRecordRaw } from 'vue-router';

export const platformRoutes: RouteRecordRaw[] = [
  { path: 'platforms', name: 'platforms', component: () => import('./PlatformsPage.vue') },
  {
    path: 'platforms/new',
    name: 'launch-platform',
    component: () => import('./LaunchPlatformPage.vue'),
  },
  {
    path: 'platforms/:id',
    name: 'platform',
    component: () => import('./PlatformPage.vue'),
    props: true,
  },
];
