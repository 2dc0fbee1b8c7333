import { ApiProperty } from '@nestjs/swagger';

export class ToolCheckDto {
  @ApiProperty({ example: 'ansible-playbook' })
  tool!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ansible-playbook [core 2.14.18]' })
  version!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why a launch cannot use it, with the command that fixes it; null when fine',
  })
  problem!: string | null;
}

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'] })
  status!: 'ok' | 'degraded';

  @ApiProperty({ enum: ['up', 'down'] })
  database!: 'up' | 'down';

  @ApiProperty({ enum: ['up', 'down'] })
  redis!: 'up' | 'down';

  @ApiProperty({ description: 'Job workers connected to the queue (any process)' })
  workers!: number;

  @ApiProperty()
  version!: string;

  @ApiProperty({
    description: 'Every program a launch runs (OpenTofu, Ansible, SSH) is on this machine',
  })
  launchReady!: boolean;

  @ApiProperty({ type: [ToolCheckDto] })
  launchTools!: ToolCheckDto[];
}
