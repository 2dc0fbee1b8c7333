import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../src/contract/reading';
import { PostgresReadingWriter } from '../src/writers/postgres-reading-writer';
import { RejectedByDatabaseError } from '../src/writers/reading-writer';
import { createTestPostgresDatabase, type TestPostgresDatabase } from './support/databases';

/** The COPY writer against the real PostgreSQL: every character survives, rejections are classified. */
describe('PostgresReadingWriter', () => {
  let database: TestPostgresDatabase;
  let writer: PostgresReadingWriter;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    writer = new PostgresReadingWriter(database.url);
    await writer.prepare();
  });

  afterAll(async () => {
    await writer?.close();
    await database?.drop();
  });

  it('stores names and data with tabs, newlines, backslashes, quotes and non-ASCII unchanged', async () => {
    const awkward = 'a\tb\nc\rd\\e\\\\N"f\' ünï 🌡 \\N';
    const readings: Reading[] = [
      {
        measurement: `room ${awkward}`,
        device: `dev\\${awkward}`,
        time: 1_700_000_000_123,
        data: { text: awkward, nested: { [awkward]: [1, null, true] }, value: -1.5e-7 },
      },
      { measurement: 'plain', device: 'pi1', time: 0, data: {} },
      { measurement: 'plain', device: 'pi2', time: 253402300799999, data: { max: 1 } },
    ];
    await writer.write(readings);
    const rows = await database.query<{
      ms: string;
      measurement: string;
      device: string;
      data: unknown;
    }>(
      'SELECT (extract(epoch FROM time) * 1000)::bigint::text AS ms, measurement, device, data FROM readings ORDER BY time',
    );
    expect(rows).toEqual(
      [...readings]
        .sort((a, b) => a.time - b.time)
        .map((reading) => ({
          ms: String(reading.time),
          measurement: reading.measurement,
          device: reading.device,
          data: reading.data,
        })),
    );
  });

  it('reports rows PostgreSQL refuses as a rejection and stays usable', async () => {
    await expect(
      writer.write([{ measurement: 'bad', device: 'pi1', time: 1, data: { text: 'nul\u0000' } }]),
    ).rejects.toThrow(RejectedByDatabaseError);
    await expect(
      writer.write([{ measurement: 'bad', device: 'pi1', time: 1, data: { big: 1n } }]),
    ).rejects.toThrow(/cannot be encoded/);
    await writer.write([{ measurement: 'after', device: 'pi1', time: 2, data: { ok: true } }]);
    expect(await database.query("SELECT device FROM readings WHERE measurement = 'after'")).toEqual(
      [{ device: 'pi1' }],
    );
  });
});
