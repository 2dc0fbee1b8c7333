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
  toAlertRuleChangeDto,
  toAlertRuleDto,
  UpdateAlertRuleInput,
} from './dto/alert-rule.dto';

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('platforms/:id/alert-rules')
export class AlertsController {
  constructor(private readonly rules: AlertRules) {}

  @Get()
  @ApiOkResponse({
    type: [AlertRuleDto],
    description:
      "With their firing state; reading thresholds with the platform's last apply to Grafana",
  })
  async listAlertRules(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<AlertRuleDto[]> {
    const rules = await this.rules.list(auth.userId, id);
    const grafanaApply = rules.some((rule) => rule.kind === 'reading-threshold')
      ? await this.rules.lastGrafanaApply(auth.userId, id)
      : undefined;
    return rules.map((rule) => toAlertRuleDto(rule, grafanaApply));
  }

  @Post()
  @ApiCreatedResponse({
    type: AlertRuleDto,
    description:
      '400 UNKNOWN_DEVICE / UNKNOWN_LABEL naming what does not exist, READING_ALERTS_UNSUPPORTED on ' +
      'MongoDB, GRAFANA_NOT_PUBLISHED without a Grafana port; a reading-threshold on a running platform answers the deployment taking it to Grafana',
  })
  async createAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: CreateAlertRuleInput,
  ): Promise<AlertRuleDto> {
    return toAlertRuleChangeDto(await this.rules.create(auth, id, input));
  }

  @Patch(':ruleId')
  @ApiOkResponse({
    type: AlertRuleDto,
    description: 'Thresholds, intervals, mute (a reading-threshold: with its deployment)',
  })
  async updateAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('ruleId', ParseUUIDPipe) ruleId: string,
    @Body() input: UpdateAlertRuleInput,
  ): Promise<AlertRuleDto> {
    return toAlertRuleChangeDto(await this.rules.update(auth, id, ruleId, input));
  }

  @Delete(':ruleId')
  @HttpCode(204)
  @ApiNoContentResponse({
    description:
      "A reading-threshold of a running platform is removed from Grafana by a deployment (the platform's latest)",
  })
  async deleteAlertRule(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('ruleId', ParseUUIDPipe) ruleId: string,
  ): Promise<void> {
    await this.rules.remove(auth, id, ruleId);
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
