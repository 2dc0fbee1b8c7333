import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { UserOwned } from '../users/user-owned';

export enum AuditEventType {
  Register = 'register',
  Login = 'login',
  LoginFailed = 'login_failed',
  Logout = 'logout',
  RefreshReuse = 'refresh_reuse',
  SessionRevoked = 'session_revoked',
  PasswordChanged = 'password_changed',
  SshKeyRevealed = 'ssh_key_revealed',
  CredentialCreated = 'credential_created',
  CredentialUpdated = 'credential_updated',
  CredentialDeleted = 'credential_deleted',
  DeviceCreated = 'device_created',
  DeviceRotated = 'device_rotated',
  DeviceRevoked = 'device_revoked',
  DevicePasswordRevealed = 'device_password_revealed',
  DeviceCertificateIssued = 'device_certificate_issued',
  DeviceCommandSent = 'device_command_sent',
  DeviceRetainedCommandCleared = 'device_retained_command_cleared',
}

@Entity('audit_events')
@Index(['userId', 'createdAt'])
export class AuditEvent extends UserOwned {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: AuditEventType;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  userAgent!: string | null;

  /** Non-secret context (credential id and name, session id…). */
  @Column({ type: 'simple-json', nullable: true })
  details!: Record<string, string> | null;

  @CreateDateColumn()
  createdAt!: Date;
}
