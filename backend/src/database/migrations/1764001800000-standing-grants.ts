import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Standing grants (DESIGN §11): a user's data key for work that runs without a session. */
export class StandingGrants1764001800000 implements MigrationInterface {
  name = 'StandingGrants1764001800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'standing_grants',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'purpose', ...t.varchar(128) },
          { name: 'wrappedDataKey', ...t.text },
          { name: 'createdAt', ...t.createdDate },
          { name: 'lastUsedAt', ...t.date, isNullable: true },
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
      'standing_grants',
      new TableIndex({ columnNames: ['userId', 'purpose'], isUnique: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('standing_grants');
  }
}
