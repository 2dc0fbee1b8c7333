import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import {
  CreateChannelInput,
  CreatedChannelDto,
  NotificationChannelDto,
  NotificationDeliveryDto,
  QueuedDeliveryDto,
  toChannelDto,
  toDeliveryDto,
} from './dto/notification-channel.dto';
import { NotificationChannels } from './notification-channels.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('notification-channels')
export class NotificationsController {
  constructor(private readonly channels: NotificationChannels) {}

  @Get()
  @ApiOkResponse({ type: [NotificationChannelDto] })
  async listChannels(@Auth() auth: AuthContext): Promise<NotificationChannelDto[]> {
    const channels = await this.channels.list(auth.userId);
    const lastAttempts = await this.channels.lastAttempts(channels);
    return channels.map((channel) => toChannelDto(channel, lastAttempts.get(channel.id) ?? null));
  }

  @Post()
  @ApiCreatedResponse({
    type: CreatedChannelDto,
    description:
      'A webhook channel gets a signing secret and a standing grant: the server can then open the secret without you signed in (revoked when the channel is deleted)',
  })
  async createChannel(
    @Auth() auth: AuthContext,
    @Body() input: CreateChannelInput,
  ): Promise<CreatedChannelDto> {
    const { channel, signingSecret } = await this.channels.create(auth, input);
    return { channel: toChannelDto(channel, null), signingSecret };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async deleteChannel(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.channels.remove(auth.userId, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: QueuedDeliveryDto, description: 'Its outcome shows in the log' })
  async sendTest(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<QueuedDeliveryDto> {
    return { deliveryId: await this.channels.sendTest(auth.userId, id) };
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: [NotificationDeliveryDto], description: 'Newest first, every attempt' })
  async listDeliveries(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<NotificationDeliveryDto[]> {
    return (await this.channels.log(auth.userId, id)).map(toDeliveryDto);
  }
}
