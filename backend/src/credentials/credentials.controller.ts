import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { Origin, type RequestOrigin } from '../common/request-origin';
import { ApiError } from '../common/api-error';
import { isCredentialType } from './credential-types';
import { CredentialHostCheck } from './credential-host-check';
import { CredentialsService } from './credentials.service';
import { CredentialDto } from './dto/credential.dto';
import { HostCheckReportDto } from './dto/host-check.dto';
import {
  AwsCredentialInput,
  AwsCredentialUpdate,
  GcpCredentialInput,
  GcpCredentialUpdate,
  OpenstackCredentialInput,
  OpenstackCredentialUpdate,
  SshHostCredentialInput,
  SshHostCredentialUpdate,
} from './dto/credential-input.dto';

const INPUTS = [
  AwsCredentialInput,
  GcpCredentialInput,
  OpenstackCredentialInput,
  SshHostCredentialInput,
];
const UPDATES = [
  AwsCredentialUpdate,
  GcpCredentialUpdate,
  OpenstackCredentialUpdate,
  SshHostCredentialUpdate,
];

// Bodies are a union chosen by `type`, so the service validates them against the type's class.
@ApiTags('credentials')
@ApiBearerAuth()
@ApiExtraModels(...INPUTS, ...UPDATES)
@Controller('credentials')
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly hostCheck: CredentialHostCheck,
  ) {}

  @Get()
  @ApiQuery({ name: 'type', required: false, enum: ['aws', 'gcp', 'openstack', 'ssh-host'] })
  @ApiOkResponse({ type: [CredentialDto] })
  listCredentials(
    @Auth() auth: AuthContext,
    @Query('type') type?: string,
  ): Promise<CredentialDto[]> {
    if (type !== undefined && !isCredentialType(type)) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        'type must be one of aws, gcp, openstack, ssh-host',
      );
    }
    return this.credentials.list(auth.userId, type);
  }

  @Post()
  @ApiBody({ schema: { oneOf: INPUTS.map((input) => ({ $ref: getSchemaPath(input) })) } })
  @ApiCreatedResponse({ type: CredentialDto })
  createCredential(
    @Auth() auth: AuthContext,
    @Body() body: unknown,
    @Origin() origin: RequestOrigin,
  ): Promise<CredentialDto> {
    return this.credentials.create(auth, body, origin);
  }

  @Get(':id')
  @ApiOkResponse({ type: CredentialDto })
  getCredential(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<CredentialDto> {
    return this.credentials.get(auth.userId, id);
  }

  @Patch(':id')
  @ApiBody({ schema: { oneOf: UPDATES.map((update) => ({ $ref: getSchemaPath(update) })) } })
  @ApiOkResponse({ type: CredentialDto })
  updateCredential(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: unknown,
    @Origin() origin: RequestOrigin,
  ): Promise<CredentialDto> {
    return this.credentials.update(auth, id, body, origin);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOkResponse({
    type: HostCheckReportDto,
    description:
      'SSH-host credentials: logs in with the key and checks sudo without a password, the OS, Python, Docker and free disk (400 NOT_AN_SSH_HOST otherwise)',
  })
  testCredential(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<HostCheckReportDto> {
    return this.hostCheck.check(auth, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async deleteCredential(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Origin() origin: RequestOrigin,
  ): Promise<void> {
    await this.credentials.delete(auth, id, origin);
  }
}
