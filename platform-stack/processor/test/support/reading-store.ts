import { createTestInfluxDatabase, createTestPostgresDatabase } from './databases';

/** One database the processor writes to, seen from the test: its processor env and what it holds. */
export interface ReadingStore {
  kind: 'postgres' | 'influxdb';
  /** Processor environment pointing at the database, optionally through another host:port. */
  processorEnv(via?: { port: number }): Record<string, string>;
  /** Readings of one measurement: device, epoch-ms time and one numeric field. */
  readings(
    measurement: string,
    field: string,
  ): Promise<{ device: string; time: number; value: number }[]>;
  drop(): Promise<void>;
}

export async function createReadingStore(kind: 'postgres' | 'influxdb'): Promise<ReadingStore> {
  if (kind === 'postgres') {
    const database = await createTestPostgresDatabase();
    return {
      kind,
      processorEnv: (via) => {
        const url = new URL(database.url);
        if (via) url.port = String(via.port);
        return { DATABASE_KIND: 'postgres', POSTGRES_URL: url.href };
      },
      readings: async (measurement, field) => {
        const exists = await database.query<{ table: string | null }>(
          "SELECT to_regclass('readings')::text AS table",
        );
        if (!exists[0].table) return [];
        const rows = await database.query<{ device: string; time: Date; value: number }>(
          `SELECT device, time, (data->>$2)::float8 AS value FROM readings WHERE measurement = $1 ORDER BY time, device`,
          [measurement, field],
        );
        return rows.map((row) => ({
          device: row.device,
          time: row.time.getTime(),
          value: row.value,
        }));
      },
      drop: () => database.drop(),
    };
  }
  const database = await createTestInfluxDatabase();
  return {
    kind,
    processorEnv: (via) => {
      const url = new URL(database.url);
      if (via) url.port = String(via.port);
      return {
        DATABASE_KIND: 'influxdb',
        INFLUX_URL: url.href,
        INFLUX_DATABASE: database.database,
      };
    },
    readings: async (measurement, field) => {
      try {
        const rows = await database.query(
          `SELECT "${field.replace(/"/g, '')}" AS value, device FROM "${measurement.replace(/"/g, '')}"`,
        );
        return rows.map((row) => ({
          device: String(row.device),
          time: Number(row.time),
          value: Number(row.value),
        }));
      } catch (error) {
        if (error instanceof Error && error.message.includes('database not found')) return [];
        throw error;
      }
    },
    drop: () => database.drop(),
  };
}
