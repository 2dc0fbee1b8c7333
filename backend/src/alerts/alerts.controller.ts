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
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { AlertRules } from './alert-rules.service';
import {
  AlertEventDto,
  AlertRuleDto,
  CreateAlertRuleInput,
  toAlertEventDto,
  toAlertRuleDto,
  UpdateAlertRuleInput,
} from './dto/alert-rule.dto';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('platforms/:id/alert-rules')
export class AlertsController {
  constructor(private readonly rules: AlertRules) {}

  @Get()
  @ApiOkResponse({ type: [AlertRuleDto], description: 'With their firing state' })
  async listAlertRules(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<AlertRuleDto[]> {
    return (await this.rules.list(auth.userId, id)).map(toAlertRuleDto);
  }

  @Post()
  @ApiCreatedResponse({
    type: AlertRuleDto,
    description: '400 UNKNOWN_DEVICE / UNKNOWN_LABEL naming what does not exist',
  })
  async createAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: CreateAlertRuleInput,
  ): Promise<AlertRuleDto> {
    return toAlertRuleDto(await this.rules.create(auth.userId, id, input));
  }

  @Patch(':ruleId')
  @ApiOkResponse({ type: AlertRuleDto, description: 'Thresholds, intervals, mute' })
  async updateAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('ruleId', ParseUUIDPipe) ruleId: string,
    @Body() input: UpdateAlertRuleInput,
  ): Promise<AlertRuleDto> {
    return toAlertRuleDto(await this.rules.update(auth.userId, id, ruleId, input));
  }

  @Delete(':ruleId')
  @HttpCode(204)
  @ApiNoContentResponse()
  async deleteAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('ruleId', ParseUUIDPipe) ruleId: string,
  ): Promise<void> {
    await this.rules.remove(auth.userId, id, ruleId);
  }

  @Get(':ruleId/events')
  @ApiOkResponse({
    type: [AlertEventDto],
    description: 'Fired, re-notified, resolved; newest first',
  })
  async listAlertEvents(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('ruleId', ParseUUIDPipe) ruleId: string,
  ): Promise<AlertEventDto[]> {
    return (await this.rules.history(auth.userId, id, ruleId)).map(toAlertEventDto);
  }
}
