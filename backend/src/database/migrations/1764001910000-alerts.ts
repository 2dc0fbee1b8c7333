import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Alert rules per platform with their firing state, and their history (issue 17). */
export class Alerts1764001910000 implements MigrationInterface {
  name = 'Alerts1764001910000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'alert_rules',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'platformId', ...t.id },
          { name: 'kind', ...t.varchar(32) },
          { name: 'minutes', ...t.integer },
          { name: 'threshold', type: 'double precision', isNullable: true },
          { name: 'device', ...t.varchar(63), isNullable: true },
          { name: 'label', ...t.varchar(320), isNullable: true },
          { name: 'reNotifyMinutes', ...t.integer },
          { name: 'mutedUntil', ...t.date, isNullable: true },
          { name: 'state', ...t.varchar(8) },
          { name: 'firingSince', ...t.date, isNullable: true },
          { name: 'lastNotifiedAt', ...t.date, isNullable: true },
          { name: 'detail', ...t.text, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
        ],
        foreignKeys: [
          {
            columnNames: ['userId'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
          {
            columnNames: ['platformId'],
            referencedTableName: 'platforms',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex('alert_rules', new TableIndex({ columnNames: ['platformId'] }));
    await queryRunner.createTable(
      new Table({
        name: 'alert_events',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'ruleId', ...t.id },
          { name: 'at', ...t.date },
          { name: 'kind', ...t.varchar(16) },
          { name: 'message', ...t.text },
          { name: 'notify', ...t.boolean },
        ],
        foreignKeys: [
          {
            columnNames: ['ruleId'],
            referencedTableName: 'alert_rules',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'alert_events',
      new TableIndex({ columnNames: ['ruleId', 'at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('alert_events');
    await queryRunner.dropTable('alert_rules');
  }
}
