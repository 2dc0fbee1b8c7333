import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsUUID } from 'class-validator';
import { IsDnsLabel, TARGET_NAME_MAX } from '../../common/dns-label';
import { SPACE_TARGETS, type Space } from '../space.entity';

export class CreateSpaceInput {
  @ApiProperty({ example: 'lab', description: 'DNS label' })
  @IsDnsLabel({ maxLength: TARGET_NAME_MAX })
  name!: string;

  @ApiProperty({ enum: SPACE_TARGETS, description: 'GCP and ssh-host platforms need no space' })
  @IsIn(SPACE_TARGETS)
  target!: (typeof SPACE_TARGETS)[number];

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  credentialId!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'aws: {region, availabilityZone?, vpcCidr?, subnetCidr?, ingressCidrs?, sshCidrs?}; ' +
      'openstack: {mode: "existing", externalPool, networkName, securityGroupName} or ' +
      '{mode: "create", externalPool, subnetCidr?, dnsNameservers?, ingressCidrs?, sshCidrs?}',
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, string | number | boolean | string[]>;
}

export class SpaceDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SPACE_TARGETS }) target!: string;
  @ApiProperty() credentialId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) options!: Record<string, unknown>;
  @ApiProperty({ enum: ['creating', 'ready', 'failed', 'deleting', 'deleted'] }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  outputs!: Record<string, string> | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class SpaceAcceptedDto {
  @ApiProperty({ type: SpaceDto }) space!: SpaceDto;
  @ApiProperty() deploymentId!: string;
}

export function toSpaceDto(space: Space): SpaceDto {
  const { id, name, target, credentialId, options, status, outputs, error } = space;
  return {
    id,
    name,
    target,
    credentialId,
    options,
    status,
    outputs,
    error,
    createdAt: space.createdAt,
    updatedAt: space.updatedAt,
  };
}
