import { api, type Schemas } from './client';

export type Health = Schemas['HealthDto'];

export async function fetchHealth(): Promise<Health> {
  // A degraded API answers 503 with the same body, which is what the page wants to show.
  const { data, error } = await api.GET('/api/v1/health');
  const health = data ?? (error as Health | undefined);
  if (!health) throw new Error('No health report');
  return health;
}
