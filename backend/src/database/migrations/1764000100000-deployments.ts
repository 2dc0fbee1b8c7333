import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Deployments and their ordered log (issue: launch pipeline). */
export class Deployments1764000100000 implements MigrationInterface {
  name = 'Deployments1764000100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'deployments',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'targetKind', ...t.varchar(16) },
          { name: 'targetId', ...t.id },
          { name: 'action', ...t.varchar(32) },
          { name: 'status', ...t.varchar(16) },
          { name: 'activeKey', ...t.varchar(64), isNullable: true },
          { name: 'step', ...t.varchar(64), isNullable: true },
          { name: 'error', ...t.text, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
          { name: 'startedAt', ...t.date, isNullable: true },
          { name: 'finishedAt', ...t.date, isNullable: true },
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
    await queryRunner.createIndex(
      'deployments',
      new TableIndex({ columnNames: ['activeKey'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'deployments',
      new TableIndex({ columnNames: ['targetId', 'createdAt'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'deployment_log_entries',
        columns: [
          { name: 'deploymentId', ...t.id, isPrimary: true },
          { name: 'seq', ...t.integer, isPrimary: true },
          { name: 'level', ...t.varchar(8) },
          { name: 'step', ...t.varchar(64), isNullable: true },
          { name: 'message', ...t.text },
          { name: 'data', ...t.text, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
        ],
        foreignKeys: [
          {
            columnNames: ['deploymentId'],
            referencedTableName: 'deployments',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('deployment_log_entries');
    await queryRunner.dropTable('deployments');
  }
}
