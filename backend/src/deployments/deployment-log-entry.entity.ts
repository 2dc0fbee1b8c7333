import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Deployment } from './deployment.entity';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Flat structured context of a log line. */
export type LogData = Record<string, string | number | boolean | null>;

/** One line of a deployment's log; `seq` orders lines and is the SSE event id. */
@Entity('deployment_log_entries')
export class DeploymentLogEntry {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  deploymentId!: string;

  @PrimaryColumn({ type: 'integer' })
  seq!: number;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deploymentId' })
  deployment?: Deployment;

  @Column({ type: 'varchar', length: 8 })
  level!: LogLevel;

  @Column({ type: 'varchar', length: 64, nullable: true })
  step!: string | null;

  @Column({ type: 'text' })
  message!: string;

  /** Structured context (resource, action, task, host…); never a secret. */
  @Column({ type: 'simple-json', nullable: true })
  data!: LogData | null;

  @CreateDateColumn()
  createdAt!: Date;
}
