import { ApiProperty } from '@nestjs/swagger';
import type { Deployment } from '../deployment.entity';

export class DeploymentDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['space', 'platform'] }) targetKind!: string;
  @ApiProperty() targetId!: string;
  @ApiProperty({
    enum: [
      'launch',
      'destroy',
      'update-processor',
      'dump',
      'restore',
      'health-check',
      'backup',
      'restore-backup',
      'restore-drill',
      'device-import',
      'readings-retention',
      'reading-alerts',
    ],
  })
  action!: string;
  @ApiProperty({
    enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'],
    description:
      "The deployment's own state (the job), not its target's: a launch is `running` from the first step to the last",
  })
  status!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "The target's lifecycle state this deployment is at (the platform's or space's status while it runs, e.g. `waiting_for_host`, `configuring`)",
  })
  step!: string | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) startedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) finishedAt!: Date | null;
}

export function toDeploymentDto(deployment: Deployment): DeploymentDto {
  const {
    id,
    targetKind,
    targetId,
    action,
    status,
    step,
    error,
    createdAt,
    startedAt,
    finishedAt,
  } = deployment;
  return {
    id,
    targetKind,
    targetId,
    action,
    status,
    step,
    error,
    createdAt,
    startedAt,
    finishedAt,
  };
}
