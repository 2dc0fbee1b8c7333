import { Client, type DatabaseError } from 'pg';

/**
 * platform-stack's PRUNE_READINGS_FUNCTION: created by the retention the platform's owner sets
 * (database/readings-retention.ts), executable by the processor's role, which still cannot DELETE.
 */
const PRUNE = 'SELECT fieldstation_prune_readings($1) AS deleted';
const UNDEFINED_FUNCTION = '42883';

/**
 * Plain PostgreSQL keeps readings for the set number of days by this: batches of deletes, each a
 * short transaction, until one comes back short. Without a retention (no function, or no days
 * set) it deletes nothing.
 */
export async function pruneExpiredReadings(url: string, batchSize: number): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let total = 0;
    for (;;) {
      const result = await client.query<{ deleted: number }>(PRUNE, [batchSize]);
      const deleted = result.rows[0]?.deleted ?? 0;
      total += deleted;
      if (deleted < batchSize) return total;
    }
  } catch (error) {
    if ((error as DatabaseError).code === UNDEFINED_FUNCTION) return 0;
    throw error;
  } finally {
    await client.end();
  }
}
