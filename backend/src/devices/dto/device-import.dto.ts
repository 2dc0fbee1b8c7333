import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, IsUUID } from 'class-validator';
import { MAX_IMPORT_ROWS } from '../device-csv';

export class ImportDevicesInput {
  @ApiProperty({
    example: 'name,labels\npi-0001,site=greenhouse-2;model=pi-zero\npi-0002,\n',
    description:
      `CSV text, one device per line: \`name,labels\` (first line \`name,labels\` is a header), ` +
      `labels as \`key=value;key=value\`; fields may be double-quoted. At most ${MAX_IMPORT_ROWS} ` +
      'rows (413 TOO_MANY_ROWS) and 1 MB',
  })
  @IsString()
  csv!: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Revoke every active device whose name is not in the CSV (an allowlist)',
  })
  @IsOptional()
  @IsBoolean()
  revokeMissing?: boolean;
}

export class ExportImportedPasswordsInput {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'A UUID the client makes for this download. A retry with the same token within 10 minutes ' +
      'of the first download (whose answer was lost) gets the same passwords again; without one, ' +
      'or with another, a second call is 410',
  })
  @IsOptional()
  @IsUUID()
  downloadToken?: string;
}

export class DeviceImportStartedDto {
  @ApiProperty({ description: 'The import (= its deployment) id' })
  id!: string;

  @ApiProperty({ description: 'Device rows in the CSV' })
  rows!: number;
}

export class DeviceImportStatusDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] })
  status!: string;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty({ description: 'Device rows in the CSV' })
  rows!: number;

  @ApiProperty({ description: 'Broker changes to make: new devices + revocations (0 until known)' })
  total!: number;

  @ApiProperty({ description: 'Broker changes made so far ("done of total")' })
  done!: number;

  @ApiProperty({ description: 'Devices created (once succeeded)' })
  created!: number;

  @ApiProperty({ type: [String], description: 'Names already active: left as they were' })
  skipped!: string[];

  @ApiProperty({ type: [String], description: 'Names revoked (revokeMissing)' })
  revoked!: string[];

  @ApiProperty({ description: 'The passwords can still be downloaded (once)' })
  passwordsAvailable!: boolean;
}
