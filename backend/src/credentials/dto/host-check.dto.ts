import { ApiProperty } from '@nestjs/swagger';

export class HostCheckDto {
  @ApiProperty({ enum: ['connection', 'sudo', 'os', 'python', 'docker', 'disk'] })
  name!: 'connection' | 'sudo' | 'os' | 'python' | 'docker' | 'disk';
  @ApiProperty({
    enum: ['ok', 'warn', 'fail'],
    description: 'warn: the launch copes (e.g. installs Docker) or it may be tight',
  })
  status!: 'ok' | 'warn' | 'fail';
  @ApiProperty({ example: 'Ubuntu 24.04.1 LTS' }) message!: string;
}

export class HostCheckReportDto {
  @ApiProperty({ description: 'No check failed: a launch can start' }) ready!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The key the host presented (SHA256:…), to compare; pinned at launch',
  })
  hostKeyFingerprint!: string | null;
  @ApiProperty({ type: [HostCheckDto] }) checks!: HostCheckDto[];
}
