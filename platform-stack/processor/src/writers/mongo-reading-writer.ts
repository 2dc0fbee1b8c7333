import { MongoClient, MongoServerError } from 'mongodb';
import type { Reading } from '../contract/reading';
import { RejectedByDatabaseError, type ReadingWriter } from './reading-writer';

const COLLECTION = 'readings';

export interface MongoReadingDocument {
  time: Date;
  meta: { measurement: string; device: string };
  data: Record<string, unknown>;
}

/** measurement and device form the time-series `metaField`, so MongoDB buckets by them. */
export function toMongoDocument(reading: Reading): MongoReadingDocument {
  return {
    time: new Date(reading.time),
    meta: { measurement: reading.measurement, device: reading.device },
    data: reading.data,
  };
}

/**
 * MongoDB: a time-series collection `readings` (timeField `time`, metaField `meta` holding
 * measurement and device), one unordered insertMany per batch.
 */
export class MongoReadingWriter implements ReadingWriter {
  readonly kind = 'mongodb';
  private readonly client: MongoClient;

  constructor(
    url: string,
    private readonly database: string,
  ) {
    this.client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  }

  async prepare(): Promise<void> {
    const db = this.client.db(this.database);
    const existing = await db.listCollections({ name: COLLECTION }, { nameOnly: true }).toArray();
    if (existing.length === 0) {
      await db.createCollection(COLLECTION, {
        timeseries: { timeField: 'time', metaField: 'meta', granularity: 'seconds' },
      });
    }
  }

  async write(readings: Reading[]): Promise<void> {
    if (readings.length === 0) return;
    const documents = readings.map(toMongoDocument);
    try {
      await this.client
        .db(this.database)
        .collection(COLLECTION)
        .insertMany(documents, { ordered: false });
    } catch (error) {
      // Validation failures (code 121) reject the documents; network and election errors are transient.
      if (error instanceof MongoServerError && error.code === 121) {
        throw new RejectedByDatabaseError(`MongoDB rejected the documents: ${error.message}`);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
