import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Users, sessions, deployment grants, audit events and credentials (issue: accounts). */
export class Accounts1764000000000 implements MigrationInterface {
  name = 'Accounts1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    const now = t.createdDate;
    const id = { name: 'id', ...t.id, isPrimary: true };
    const owner = { name: 'userId', ...t.id };
    const ownerKey = {
      columnNames: ['userId'],
      referencedTableName: 'users',
      referencedColumnNames: ['id'],
      onDelete: 'CASCADE',
    };

    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          id,
          { name: 'email', ...t.varchar(254), isUnique: true },
          { name: 'username', ...t.varchar(64) },
          { name: 'passwordHash', ...t.text },
          { name: 'keySalt', ...t.text },
          { name: 'wrappedDataKey', ...t.text },
          { name: 'keyVersion', ...t.integer },
          { name: 'sshPublicKey', ...t.text },
          { name: 'sshPrivateKey', ...t.text },
          { name: 'createdAt', ...now },
          { name: 'updatedAt', ...now },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          id,
          owner,
          { name: 'refreshTokenHash', ...t.varchar(64) },
          { name: 'wrappedDataKey', ...t.text },
          { name: 'userAgent', ...t.varchar(256), isNullable: true },
          { name: 'ip', ...t.varchar(64), isNullable: true },
          { name: 'createdAt', ...now },
          { name: 'lastUsedAt', ...t.date },
          { name: 'expiresAt', ...t.date },
        ],
        foreignKeys: [ownerKey],
      }),
    );
    await queryRunner.createIndex('sessions', new TableIndex({ columnNames: ['userId'] }));

    await queryRunner.createTable(
      new Table({
        name: 'deployment_grants',
        columns: [
          { name: 'deploymentId', ...t.id, isPrimary: true },
          owner,
          { name: 'wrappedDataKey', ...t.text },
          { name: 'expiresAt', ...t.date },
          { name: 'createdAt', ...now },
        ],
        foreignKeys: [ownerKey],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          id,
          owner,
          { name: 'type', ...t.varchar(32) },
          { name: 'ip', ...t.varchar(64), isNullable: true },
          { name: 'userAgent', ...t.varchar(256), isNullable: true },
          { name: 'details', ...t.text, isNullable: true },
          { name: 'createdAt', ...now },
        ],
        foreignKeys: [ownerKey],
      }),
    );
    await queryRunner.createIndex(
      'audit_events',
      new TableIndex({ columnNames: ['userId', 'createdAt'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'credentials',
        columns: [
          id,
          owner,
          { name: 'type', ...t.varchar(16) },
          { name: 'name', ...t.varchar(63) },
          { name: 'fields', ...t.text },
          { name: 'secrets', ...t.text },
          { name: 'createdAt', ...now },
          { name: 'updatedAt', ...now },
        ],
        foreignKeys: [ownerKey],
        uniques: [{ columnNames: ['userId', 'name'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['credentials', 'audit_events', 'deployment_grants', 'sessions', 'users']) {
      await queryRunner.dropTable(table);
    }
  }
}
