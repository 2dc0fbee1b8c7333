import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** What testing an `s3` credential found: one small object written, read back and deleted. */
export class StorageTestReportDto {
  @ApiProperty({ enum: ['s3'] }) type!: 's3';
  @ApiProperty({ description: 'Write, read back (same bytes) and delete all succeeded' })
  ok!: boolean;
  @ApiPropertyOptional({ enum: ['write', 'read', 'delete'], description: 'The step that failed' })
  failedStep?: 'write' | 'read' | 'delete';
  @ApiPropertyOptional({
    enum: [
      'BAD_ACCESS_KEY',
      'BAD_SECRET_KEY',
      'BUCKET_NOT_FOUND',
      'ACCESS_DENIED',
      'UNREACHABLE',
      'STORAGE_ERROR',
      'READ_BACK_MISMATCH',
    ],
  })
  code?: string;
  @ApiProperty({ description: "What happened, with the storage service's own message on failure" })
  message!: string;
  @ApiProperty() durationMs!: number;
}
