import { randomUUID } from 'node:crypto';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

interface PlatformRow {
  id: string;
  userId: string;
  deviceUsers: string;
  secrets: string;
}

/**
 * The device registry (issue 14). Platforms' launch devices move into it: their sealed passwords
 * keep the platform id and `device:<name>` as AAD, so the ciphertext moves as it is (no data key
 * is needed here) and leaves the platform's own secrets.
 */
export class Devices1764000500000 implements MigrationInterface {
  name = 'Devices1764000500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'devices',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'platformId', ...t.id },
          { name: 'name', ...t.varchar(63) },
          { name: 'activeName', ...t.varchar(128), isNullable: true },
          { name: 'labels', ...t.text },
          { name: 'metadata', ...t.text },
          { name: 'authKind', ...t.varchar(16) },
          { name: 'legacyFanout', ...t.boolean },
          { name: 'password', ...t.text, isNullable: true },
          { name: 'createdAt', ...t.createdDate },
          { name: 'rotatedAt', ...t.date, isNullable: true },
          { name: 'revokedAt', ...t.date, isNullable: true },
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
    await queryRunner.createIndex(
      'devices',
      new TableIndex({ columnNames: ['activeName'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'devices',
      new TableIndex({ columnNames: ['platformId', 'name'] }),
    );

    // Plain SQL with bound values: the query builder would apply today's entities' column
    // transformers (simple-json) to these tables, which a migration must not depend on.
    const driver = queryRunner.connection.driver;
    const isPostgres = queryRunner.connection.options.type === 'postgres';
    const column = (name: string) => driver.escape(name);
    const parameter = (index: number) => driver.createParameter(`p${index}`, index);
    const insert = (table: string, row: Record<string, unknown>) => {
      const names = Object.keys(row);
      return queryRunner.query(
        `INSERT INTO ${column(table)} (${names.map(column).join(', ')}) ` +
          `VALUES (${names.map((_, index) => parameter(index)).join(', ')})`,
        Object.values(row),
      );
    };
    const platforms = (await queryRunner.manager
      .createQueryBuilder()
      .select(column('id'), 'id')
      .addSelect(column('userId'), 'userId')
      .addSelect(column('deviceUsers'), 'deviceUsers')
      .addSelect(column('secrets'), 'secrets')
      .from('platforms', 'platforms')
      .where(`${column('activeName')} IS NOT NULL`)
      .getRawMany()) as PlatformRow[];
    for (const platform of platforms) {
      const secrets = JSON.parse(platform.secrets) as Record<string, string>;
      for (const name of JSON.parse(platform.deviceUsers) as string[]) {
        const sealed = secrets[`device:${name}`];
        if (sealed === undefined) continue;
        await insert('devices', {
          id: randomUUID(),
          userId: platform.userId,
          platformId: platform.id,
          name,
          activeName: `${platform.id}:${name}`,
          labels: '{}',
          metadata: '{}',
          authKind: 'password',
          legacyFanout: isPostgres ? false : 0,
          password: sealed,
        });
        delete secrets[`device:${name}`];
      }
      await queryRunner.query(
        `UPDATE ${column('platforms')} SET ${column('secrets')} = ${parameter(0)} WHERE ${column('id')} = ${parameter(1)}`,
        [JSON.stringify(secrets), platform.id],
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('devices');
  }
}
