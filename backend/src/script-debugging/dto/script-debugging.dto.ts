import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { ReadingDto } from '../../platforms/dto/readings.dto';

export class ScriptLogLineDto {
  @ApiProperty({ example: '2026-12-02T08:00:00.000Z' }) time!: string;
  @ApiProperty({ example: 'info' }) level!: string;
  @ApiProperty({
    example: 'user-script',
    description: '`user-script` (ctx.log), `script-host` (the sandbox), `output` (console.log)',
  })
  source!: string;
  @ApiProperty({ example: 'converted' }) message!: string;
  @ApiProperty({ type: String, nullable: true, example: '{"raw":2150}' }) fields!: string | null;
}

export class ScriptLogDto {
  @ApiProperty({ type: [ScriptLogLineDto], description: 'The last lines, oldest first' })
  lines!: ScriptLogLineDto[];
  @ApiProperty({ description: 'Lines pushed out by newer ones since the processor started' })
  dropped!: number;
}

export class DeadLetterDto {
  @ApiProperty({ type: String, nullable: true, description: 'When it was dead-lettered' })
  time!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'script',
    description: 'parse | script | database',
  })
  stage!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'script failed: raw out of range' })
  reason!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'room' }) measurement!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'sensor-1' }) device!: string | null;
  @ApiProperty({ description: 'The start of the body (at most 500 bytes)' }) bodyPreview!: string;
  @ApiProperty() bodyBytes!: number;
  @ApiProperty({ description: 'How often it was replayed before' }) replays!: number;
}

export class DeadLettersDto {
  @ApiProperty({ description: 'Messages in the dead-letter queue' }) total!: number;
  @ApiProperty({ type: [DeadLetterDto], description: 'The first (oldest) 200 of them' })
  letters!: DeadLetterDto[];
}

export class ReplayDeadLettersDto {
  @ApiProperty({ description: 'Messages moved back to the processing queue' }) replayed!: number;
}

export class PurgeDeadLettersDto {
  @ApiProperty({ description: 'Messages deleted' }) purged!: number;
}

export const DRY_RUN_SOURCES = ['readings', 'dead-letters'] as const;

export class DryRunInput {
  @ApiProperty({
    description: 'The script version to try: an ES module exporting process(reading, ctx)',
  })
  @IsString()
  @MaxLength(256 * 1024)
  scriptSource!: string;

  @ApiProperty({
    enum: DRY_RUN_SOURCES,
    description: 'Run it on the last 100 stored readings or on the first 100 dead letters',
  })
  @IsIn(DRY_RUN_SOURCES)
  from!: (typeof DRY_RUN_SOURCES)[number];
}

export class DryRunResultDto {
  @ApiProperty({
    type: ReadingDto,
    nullable: true,
    description: 'Null when the message did not parse',
  })
  input!: ReadingDto | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The body of a message that did not parse',
  })
  bodyPreview!: string | null;
  @ApiProperty({
    type: [ReadingDto],
    nullable: true,
    description: 'What the script returned (empty: dropped); null when it failed',
  })
  outputs!: ReadingDto[] | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

export class DryRunReportDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why the script did not load' })
  loadError!: string | null;
  @ApiProperty({ type: [DryRunResultDto] }) results!: DryRunResultDto[];
  @ApiProperty({ type: [ScriptLogLineDto], description: 'What the script logged during the run' })
  log!: ScriptLogLineDto[];
}
