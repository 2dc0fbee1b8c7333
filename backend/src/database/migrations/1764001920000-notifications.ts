import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Notification channels per user and their delivery log (issue 17). */
export class Notifications1764001920000 implements MigrationInterface {
  name = 'Notifications1764001920000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'notification_channels',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'name', ...t.varchar(64) },
          { name: 'kind', ...t.varchar(16) },
          { name: 'url', ...t.text },
          { name: 'secret', ...t.text, isNullable: true },
          { name: 'grantId', ...t.varchar(36), isNullable: true },
          { name: 'createdAt', ...t.createdDate },
        ],
        foreignKeys: [
          {
            columnNames: ['userId'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'notification_deliveries',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'channelId', ...t.id },
          { name: 'message', ...t.text },
          { name: 'status', ...t.varchar(16) },
          { name: 'attempts', ...t.text },
          { name: 'createdAt', ...t.createdDate },
        ],
        foreignKeys: [
          {
            columnNames: ['channelId'],
            referencedTableName: 'notification_channels',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'notification_deliveries',
      new TableIndex({ columnNames: ['channelId', 'createdAt'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notification_deliveries');
    await queryRunner.dropTable('notification_channels');
  }
}
