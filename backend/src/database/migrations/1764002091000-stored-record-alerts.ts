import { randomUUID } from 'node:crypto';
import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * Alert kinds judged on stored records (issue 17): the broker's server certificate expiry kept in
 * the clear (the certificate itself is sealed), and the two new default rules — backup failed,
 * certificate expiring within 30 days — added to every platform that exists, as a launch adds
 * them to a new one. Written out here, not imported: a migration stays what it was.
 */
export class StoredRecordAlerts1764002091000 implements MigrationInterface {
  name = 'StoredRecordAlerts1764002091000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'platforms',
      new TableColumn({ name: 'tlsCertificateExpiresAt', ...t.date, isNullable: true }),
    );
    const column = (name: string) => queryRunner.connection.driver.escape(name);
    const platforms = (await queryRunner.manager
      .createQueryBuilder()
      .select(column('id'), 'id')
      .addSelect(column('userId'), 'userId')
      .from('platforms', 'platforms')
      .where(`${column('activeName')} IS NOT NULL`)
      .getRawMany()) as { id: string; userId: string }[];
    const defaults = [
      { kind: 'backup-failed', threshold: null },
      { kind: 'certificate-expiring', threshold: 30 },
    ];
    const columns = [
      'id',
      'userId',
      'platformId',
      'kind',
      'minutes',
      'threshold',
      'reNotifyMinutes',
      'state',
    ];
    const rows = platforms.flatMap((platform) =>
      defaults.map(({ kind, threshold }) => ({
        id: randomUUID(),
        userId: platform.userId,
        platformId: platform.id,
        kind,
        minutes: 0,
        threshold,
        reNotifyMinutes: 60,
        state: 'ok',
      })),
    );
    for (let start = 0; start < rows.length; start += 100) {
      await queryRunner.manager
        .createQueryBuilder()
        .insert()
        .into('alert_rules', columns)
        .values(rows.slice(start, start + 100))
        .execute();
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.manager
      .createQueryBuilder()
      .delete()
      .from('alert_rules')
      .where('kind IN (:...kinds)', { kinds: ['backup-failed', 'certificate-expiring'] })
      .execute();
    await queryRunner.dropColumn('platforms', 'tlsCertificateExpiresAt');
  }
}
