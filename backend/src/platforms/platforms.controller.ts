import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { defaultStackPorts, readScriptTemplate } from '@fieldstation/platform-stack';
import { Auth, type AuthContext } from '../common/auth-context';
import {
  DestroyPlatformInput,
  LaunchPlatformInput,
  ReadingsRetentionInput,
  UpdateProcessorInput,
} from './dto/launch-platform.dto';
import {
  ConnectionDto,
  DeploymentAcceptedDto,
  GrafanaPasswordDto,
  LaunchDefaultsDto,
  PlatformAcceptedDto,
  PlatformDto,
  ProcessorDto,
  toPlatformDto,
} from './dto/platform.dto';
import { PlatformRemoval } from './platform-removal';
import { PlatformsService } from './platforms.service';

@ApiTags('platforms')
@ApiBearerAuth()
@Controller('platforms')
export class PlatformsController {
  constructor(
    private readonly platforms: PlatformsService,
    private readonly removal: PlatformRemoval,
  ) {}

  @Get()
  @ApiOkResponse({
    type: [PlatformDto],
    description: 'Every platform, destroyed ones too until removed (POST /platforms/:id/remove)',
  })
  async listPlatforms(@Auth() auth: AuthContext): Promise<PlatformDto[]> {
    return (await this.removal.list(auth.userId)).map(toPlatformDto);
  }

  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: PlatformAcceptedDto,
    description: 'The launch runs as a deployment',
  })
  async launchPlatform(
    @Auth() auth: AuthContext,
    @Body() input: LaunchPlatformInput,
  ): Promise<PlatformAcceptedDto> {
    const { platform, deploymentId, warnings } = await this.platforms.launch(auth, input);
    return { platform: toPlatformDto(platform), deploymentId, warnings };
  }

  @Get('launch-defaults')
  @ApiOkResponse({ type: LaunchDefaultsDto })
  launchDefaults(): LaunchDefaultsDto {
    return { portsWithTls: defaultStackPorts(true), portsWithoutTls: defaultStackPorts(false) };
  }

  @Get('script-template')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Content-Disposition', 'attachment; filename="process.js"')
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'The processing-script template, with its documentation' })
  scriptTemplate(): string {
    return readScriptTemplate();
  }

  @Get(':id')
  @ApiOkResponse({ type: PlatformDto })
  async getPlatform(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<PlatformDto> {
    return toPlatformDto(await this.platforms.get(auth.userId, id));
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeploymentAcceptedDto })
  async destroyPlatform(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: DestroyPlatformInput,
  ): Promise<DeploymentAcceptedDto> {
    return { deploymentId: await this.platforms.destroy(auth, id, input ?? {}), warnings: [] };
  }

  @Post(':id/remove')
  @HttpCode(204)
  @ApiNoContentResponse({
    description:
      'Forgets a destroyed platform and its deployment log (409 NOT_DESTROYED otherwise)',
  })
  async removePlatform(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.removal.remove(auth.userId, id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeploymentAcceptedDto, description: 'Resumes at the failed step' })
  async retryPlatform(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeploymentAcceptedDto> {
    return { deploymentId: await this.platforms.retry(auth, id), warnings: [] };
  }

  @Get(':id/processor')
  @ApiOkResponse({ type: ProcessorDto })
  async getProcessor(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ProcessorDto> {
    const platform = await this.platforms.get(auth.userId, id);
    return { script: platform.processorScript, packages: platform.processorPackages };
  }

  @Post(':id/processor')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: DeploymentAcceptedDto,
    description:
      'Packages are checked against the npm registry first (400 UNKNOWN_PACKAGE). Running (or ' +
      'failed at updating): updates the processor. Failed during the launch: stores the script ' +
      'and resumes the launch (the deployment is a launch). 409 otherwise.',
  })
  updateProcessor(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: UpdateProcessorInput,
  ): Promise<DeploymentAcceptedDto> {
    return this.platforms.updateProcessor(auth, id, input);
  }

  @Put(':id/readings-retention')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: DeploymentAcceptedDto,
    description: 'Applied in the running database as a deployment; 400 INVALID_RETENTION',
  })
  async setReadingsRetention(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: ReadingsRetentionInput,
  ): Promise<DeploymentAcceptedDto> {
    const deploymentId = await this.platforms.setReadingsRetention(auth, id, input.days);
    return { deploymentId, warnings: [] };
  }

  @Get(':id/connection')
  @ApiOkResponse({ type: ConnectionDto })
  connection(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ConnectionDto> {
    return this.platforms.connection(auth, id);
  }

  @Post(':id/grafana-password')
  @HttpCode(200)
  @ApiOkResponse({
    type: GrafanaPasswordDto,
    description: 'Answered once; 409 ALREADY_REVEALED after',
  })
  async revealGrafanaPassword(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<GrafanaPasswordDto> {
    return { password: await this.platforms.revealGrafanaPassword(auth, id) };
  }

  @Post(':id/dump')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeploymentAcceptedDto, description: 'Makes a dump on the host' })
  async requestDump(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeploymentAcceptedDto> {
    return { deploymentId: await this.platforms.requestDump(auth, id), warnings: [] };
  }

  @Get(':id/dump')
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The newest dump, streamed from the host' })
  async downloadDump(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    const { stream, filename } = await this.platforms.openDump(auth, id);
    response.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
    return new StreamableFile(stream, { type: 'application/octet-stream' });
  }

  @Post(':id/restore')
  @HttpCode(202)
  @ApiConsumes('application/octet-stream')
  @ApiBody({
    schema: { type: 'string', format: 'binary' },
    description: 'A dump of this platform type',
  })
  @ApiAcceptedResponse({ type: DeploymentAcceptedDto })
  @ApiPayloadTooLargeResponse({
    description: 'RESTORE_TOO_LARGE or RESTORE_QUOTA_EXCEEDED (see RESTORE_UPLOAD_MAX_MB)',
  })
  async restore(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<DeploymentAcceptedDto> {
    const declared = request.headers['content-length'];
    try {
      const deploymentId = await this.platforms.requestRestore(
        auth,
        id,
        request,
        declared === undefined ? undefined : Number(declared),
      );
      return { deploymentId, warnings: [] };
    } catch (error) {
      // The rest of a refused upload is not read: end the connection after the answer.
      if (!request.complete) response.setHeader('Connection', 'close');
      throw error;
    }
  }
}
