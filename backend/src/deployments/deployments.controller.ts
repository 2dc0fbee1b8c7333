import {
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError } from '../common/api-error';
import { Auth, type AuthContext } from '../common/auth-context';
import { DeploymentStream } from './deployment-stream';
import { DeploymentsService } from './deployments.service';
import { DeploymentDto, toDeploymentDto } from './dto/deployment.dto';

@ApiTags('deployments')
@ApiBearerAuth()
@Controller('deployments')
export class DeploymentsController {
  constructor(
    private readonly deployments: DeploymentsService,
    private readonly stream: DeploymentStream,
  ) {}

  @Get()
  @ApiQuery({ name: 'targetId', description: 'A Space or Platform id' })
  @ApiOkResponse({ type: [DeploymentDto] })
  async listDeployments(
    @Auth() auth: AuthContext,
    @Query('targetId', new ParseUUIDPipe({ exceptionFactory: targetIdRequired })) targetId: string,
  ): Promise<DeploymentDto[]> {
    return (await this.deployments.listForTarget(auth.userId, targetId)).map(toDeploymentDto);
  }

  @Get(':id')
  @ApiOkResponse({ type: DeploymentDto })
  async getDeployment(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeploymentDto> {
    return toDeploymentDto(await this.deployments.get(auth.userId, id));
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: DeploymentDto,
    description: 'The worker stops at the next safe point; the status becomes cancelled',
  })
  async cancelDeployment(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeploymentDto> {
    return toDeploymentDto(await this.deployments.requestCancel(auth.userId, id));
  }

  @Get(':id/events')
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this log line' })
  @ApiOkResponse({
    description: 'Events `log` (id = line number), `status`, and `end` when finished',
  })
  async streamDeploymentEvents(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    const deployment = await this.deployments.get(auth.userId, id);
    const afterSeq = Number.parseInt(lastEventId ?? '0', 10);
    await this.stream.stream(
      deployment,
      Number.isFinite(afterSeq) && afterSeq > 0 ? afterSeq : 0,
      response,
    );
  }
}

/** The pipe's own message ("The value passed as UUID is not a string") names no parameter. */
function targetIdRequired(): ApiError {
  const message =
    'The query parameter targetId is required: the id (a UUID) of the space or platform whose deployments to list.';
  return new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, [
    { field: 'targetId', problems: [message] },
  ]);
}
