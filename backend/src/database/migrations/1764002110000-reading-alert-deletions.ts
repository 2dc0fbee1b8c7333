import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Deleted reading thresholds still to be deleted in Grafana (`deleteRules` until a reload took them). */
export class ReadingAlertDeletions1764002110000 implements MigrationInterface {
  name = 'ReadingAlertDeletions1764002110000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'reading_alert_deletions',
        columns: [
          { name: 'uid', ...t.varchar(35), isPrimary: true },
          { name: 'platformId', ...t.id },
          { name: 'deletedAt', ...t.date },
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
      'reading_alert_deletions',
      new TableIndex({ columnNames: ['platformId'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('reading_alert_deletions');
  }
}
