import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import {
  DeadLettersDto,
  DryRunInput,
  DryRunReportDto,
  PurgeDeadLettersDto,
  ReplayDeadLettersDto,
  ScriptLogDto,
} from './dto/script-debugging.dto';
import { ScriptDebugging } from './script-debugging.service';

const ERRORS =
  '404 unknown platform, 409 NOT_RUNNING / PROCESSOR_NOT_RUNNING, 502 PROCESSOR_UNAVAILABLE';

@ApiTags('platforms')
@ApiBearerAuth()
@Controller('platforms/:id/processor')
export class ScriptDebuggingController {
  constructor(private readonly debugging: ScriptDebugging) {}

  @Get('log')
  @ApiOkResponse({
    type: ScriptLogDto,
    description: `The script's last 200 output lines (${ERRORS})`,
  })
  scriptLog(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ScriptLogDto> {
    return this.debugging.scriptLog(auth, id);
  }

  @Get('dead-letters')
  @ApiOkResponse({ type: DeadLettersDto, description: `The dead-letter queue (${ERRORS})` })
  deadLetters(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeadLettersDto> {
    return this.debugging.deadLetters(auth, id);
  }

  @Post('dead-letters/replay')
  @HttpCode(200)
  @ApiOkResponse({
    type: ReplayDeadLettersDto,
    description: `Moves the dead letters back to the processing queue (${ERRORS})`,
  })
  replay(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ReplayDeadLettersDto> {
    return this.debugging.replay(auth, id);
  }

  @Post('dead-letters/purge')
  @HttpCode(200)
  @ApiOkResponse({
    type: PurgeDeadLettersDto,
    description: `Deletes every dead letter (${ERRORS})`,
  })
  purge(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<PurgeDeadLettersDto> {
    return this.debugging.purge(auth, id);
  }

  @Post('dry-run')
  @HttpCode(200)
  @ApiOkResponse({
    type: DryRunReportDto,
    description: `Runs a script version in the processor's sandbox on stored readings or dead letters; deploys nothing (400 INVALID_SCRIPT, ${ERRORS}; 429 DRY_RUN_IN_PROGRESS while the user's other dry run runs, RATE_LIMITED past 20 per 10 minutes)`,
  })
  dryRun(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: DryRunInput,
  ): Promise<DryRunReportDto> {
    return this.debugging.dryRun(auth, id, input);
  }
}
