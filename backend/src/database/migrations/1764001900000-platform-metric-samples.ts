import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** The metrics history (issue 17): one sample per running platform and minute, kept 7 days. */
export class PlatformMetricSamples1764001900000 implements MigrationInterface {
  name = 'PlatformMetricSamples1764001900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    const figure = { type: 'double precision', isNullable: true };
    await queryRunner.createTable(
      new Table({
        name: 'platform_metric_samples',
        columns: [
          { name: 'platformId', ...t.id, isPrimary: true },
          { name: 'sampledAt', ...t.date, isPrimary: true },
          { name: 'status', ...t.varchar(16) },
          { name: 'processorStartedAt', ...t.date, isNullable: true },
          { name: 'messagesIn', ...figure },
          { name: 'readingsStored', ...figure },
          { name: 'messagesFailed', ...figure },
          { name: 'queueDepth', ...figure },
          { name: 'lastReadingAt', ...t.date, isNullable: true },
          { name: 'batchLatencyP50Ms', ...figure },
          { name: 'batchLatencyP99Ms', ...figure },
          { name: 'endToEndLatencyP50Ms', ...figure },
          { name: 'endToEndLatencyP99Ms', ...figure },
        ],
        foreignKeys: [
          {
            columnNames: ['platformId'],
            referencedTableName: 'platforms',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'platform_metric_samples',
      new TableIndex({ columnNames: ['sampledAt'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('platform_metric_samples');
  }
}
