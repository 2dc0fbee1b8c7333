import { ApiProperty } from '@nestjs/swagger';

export class StandingGrantDto {
  @ApiProperty() id!: string;
  @ApiProperty({
    example: 'backup-schedule:3f0c…',
    description: 'What the grant serves; deleting that deletes the grant',
  })
  purpose!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true, description: 'When background work last opened it' })
  lastUsedAt!: Date | null;
}
