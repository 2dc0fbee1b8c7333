export interface Health {
  status: 'ok' | 'degraded';
  database: 'up' | 'down';
  redis: 'up' | 'down';
}

export async function fetchHealth(): Promise<Health> {
  const response = await fetch('/api/v1/health');
  return (await response.json()) as Health;
}
