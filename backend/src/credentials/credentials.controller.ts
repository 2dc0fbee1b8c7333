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
import { CREDENTIAL_TYPE_NAMES, isCredentialType } from './credential-types';
import { CredentialConnectionTests } from './credential-connection-tests';
import { CredentialHostCheck } from './credential-host-check';
import { CredentialsService } from './credentials.service';
import { StorageTestReportDto } from './dto/connection-test.dto';
import { CredentialDto } from './dto/credential.dto';
import { HostCheckReportDto } from './dto/host-check.dto';
import {
  AwsCredentialInput,
  AwsCredentialUpdate,
  GcpCredentialInput,
  GcpCredentialUpdate,
  OpenstackCredentialInput,
  OpenstackCredentialUpdate,
  S3CredentialInput,
  S3CredentialUpdate,
  SshHostCredentialInput,
  SshHostCredentialUpdate,
} from './dto/credential-input.dto';

const INPUTS = [
  AwsCredentialInput,
  GcpCredentialInput,
  OpenstackCredentialInput,
  SshHostCredentialInput,
  S3CredentialInput,
];
const UPDATES = [
  AwsCredentialUpdate,
  GcpCredentialUpdate,
  OpenstackCredentialUpdate,
  SshHostCredentialUpdate,
  S3CredentialUpdate,
];

// Bodies are a union chosen by `type`, so the service validates them against the type's class.
@ApiTags('credentials')
@ApiBearerAuth()
@ApiExtraModels(...INPUTS, ...UPDATES)
@Controller('credentials')
export class CredentialsController {
  constructor(
    private readonly credentials: CredentialsService,
    hostCheck: CredentialHostCheck,
    private readonly connectionTests: CredentialConnectionTests,
  ) {
    connectionTests.register('ssh-host', (auth, id) => hostCheck.check(auth, id));
  }

  @Get()
  @ApiQuery({ name: 'type', required: false, enum: CREDENTIAL_TYPE_NAMES })
  @ApiOkResponse({ type: [CredentialDto] })
  listCredentials(
    @Auth() auth: AuthContext,
    @Query('type') type?: string,
  ): Promise<CredentialDto[]> {
    if (type !== undefined && !isCredentialType(type)) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        `type must be one of ${CREDENTIAL_TYPE_NAMES.join(', ')}`,
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
  @ApiExtraModels(HostCheckReportDto, StorageTestReportDto)
  @ApiOkResponse({
    description:
      "Tries the credential against what it points at. ssh-host: logs in with the key and checks sudo without a password, the OS, Python, Docker and free disk. s3: writes, reads back and deletes a small object; ok false with the service's own message when that fails",
    schema: {
      oneOf: [
        { $ref: getSchemaPath(HostCheckReportDto) },
        { $ref: getSchemaPath(StorageTestReportDto) },
      ],
    },
  })
  testCredential(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<object> {
    return this.connectionTests.test(auth, id);
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
