import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A credential as the API shows it: the type's public fields, never a secret value. */
export class CredentialDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['aws', 'gcp', 'openstack', 'ssh-host', 's3'] }) type!: string;
  @ApiProperty() name!: string;
  @ApiProperty({
    type: [String],
    description: 'Secret fields that are stored (values never shown)',
  })
  storedSecrets!: string[];
  @ApiPropertyOptional({ description: 'aws, openstack, s3' }) region?: string;
  @ApiPropertyOptional({ description: 'aws, s3: last 4 characters of the access key id' })
  accessKeyIdHint?: string;
  @ApiPropertyOptional({ description: 'gcp' }) project?: string;
  @ApiPropertyOptional({ description: 'gcp' }) clientEmail?: string;
  @ApiPropertyOptional({ description: 'openstack' }) authUrl?: string;
  @ApiPropertyOptional({ description: 'openstack, ssh-host' }) username?: string;
  @ApiPropertyOptional({ description: 'openstack' }) projectName?: string;
  @ApiPropertyOptional({ description: 'openstack' }) domain?: string;
  @ApiPropertyOptional({ description: 'ssh-host' }) host?: string;
  @ApiPropertyOptional({ description: 'ssh-host' }) port?: number;
  @ApiPropertyOptional({ description: 'ssh-host', enum: ['generated-key', 'uploaded-key'] })
  auth?: string;
  @ApiPropertyOptional({ description: 's3' }) endpoint?: string;
  @ApiPropertyOptional({ description: 's3' }) bucket?: string;
  @ApiPropertyOptional({ description: 's3' }) prefix?: string;
  @ApiPropertyOptional({ description: 's3' }) pathStyle?: boolean;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}
