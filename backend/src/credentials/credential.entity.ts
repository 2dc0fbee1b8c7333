import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

export type CredentialType = 'aws' | 'gcp' | 'openstack' | 'ssh-host' | 's3';

@Entity('credentials')
@Unique(['userId', 'name'])
export class Credential extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  type!: CredentialType;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  /** Non-secret fields of the type (region, host, project…), returned to the user. */
  @Column({ type: 'simple-json' })
  fields!: Record<string, string | number | boolean>;

  /** Secret fields, each sealed under the user's data key with AAD = id + field name. */
  @Column({ type: 'simple-json' })
  secrets!: Record<string, string>;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
