import type { DatabaseConfig } from '../config/processor-config';
import { InfluxReadingWriter } from './influx-reading-writer';
import { MongoReadingWriter } from './mongo-reading-writer';
import { PostgresReadingWriter } from './postgres-reading-writer';
import type { ReadingWriter } from './reading-writer';

export function createReadingWriter(config: DatabaseConfig): ReadingWriter {
  switch (config.kind) {
    case 'postgres':
    case 'timescaledb':
      return new PostgresReadingWriter(config.url);
    case 'influxdb':
      return new InfluxReadingWriter(config);
    case 'mongodb':
      return new MongoReadingWriter(config.url, config.database);
  }
}
