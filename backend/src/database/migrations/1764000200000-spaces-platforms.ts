import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Spaces and platforms (issue: launch pipeline). JSON columns are text (`simple-json`). */
export class SpacesPlatforms1764000200000 implements MigrationInterface {
  name = 'SpacesPlatforms1764000200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    const owner = {
      columnNames: ['userId'],
      referencedTableName: 'users',
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    };
    await queryRunner.createTable(
      new Table({
        name: 'spaces',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'name', ...t.varchar(63) },
          { name: 'activeName', ...t.varchar(128), isNullable: true },
          { name: 'target', ...t.varchar(16) },
          { name: 'credentialId', ...t.id },
          { name: 'options', ...t.text },
          { name: 'status', ...t.varchar(16) },
          { name: 'outputs', ...t.text, isNullable: true },
          { name: 'error', ...t.text, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
          { name: 'updatedAt', ...t.createdDate },
        ],
        foreignKeys: [owner],
      }),
    );
    await queryRunner.createIndex(
      'spaces',
      new TableIndex({ columnNames: ['activeName'], isUnique: true }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'platforms',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'name', ...t.varchar(63) },
          { name: 'activeName', ...t.varchar(128), isNullable: true },
          { name: 'target', ...t.varchar(16) },
          { name: 'credentialId', ...t.id },
          { name: 'spaceId', ...t.id, isNullable: true },
          { name: 'database', ...t.varchar(16) },
          { name: 'dataVolumeGb', ...t.integer },
          { name: 'tls', ...t.boolean },
          { name: 'ports', ...t.text },
          { name: 'options', ...t.text },
          { name: 'status', ...t.varchar(24) },
          { name: 'failedStep', ...t.varchar(24), isNullable: true },
          { name: 'address', ...t.varchar(255), isNullable: true },
          { name: 'hostKeyFingerprint', ...t.varchar(128), isNullable: true },
          { name: 'outputs', ...t.text, isNullable: true },
          { name: 'deviceUsers', ...t.text },
          { name: 'secrets', ...t.text },
          { name: 'caCertificatePem', ...t.text, isNullable: true },
          { name: 'processorScript', ...t.text },
          { name: 'processorPackages', ...t.text },
          { name: 'grafanaPasswordRevealed', ...t.boolean },
          { name: 'removeDataOnDestroy', ...t.boolean },
          { name: 'health', ...t.text, isNullable: true },
          { name: 'dumpPath', ...t.varchar(255), isNullable: true },
          { name: 'dumpCreatedAt', ...t.date, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
          { name: 'updatedAt', ...t.createdDate },
        ],
        foreignKeys: [owner],
      }),
    );
    await queryRunner.createIndex(
      'platforms',
      new TableIndex({ columnNames: ['activeName'], isUnique: true }),
    );
    await queryRunner.createIndex('platforms', new TableIndex({ columnNames: ['spaceId'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('platforms');
    await queryRunner.dropTable('spaces');
  }
}
