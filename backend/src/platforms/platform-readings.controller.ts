import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { ListReadingsQuery, ReadingDto } from './dto/readings.dto';
import { PlatformReadings } from './platform-readings';

@ApiTags('platforms')
@ApiBearerAuth()
@Controller('platforms')
export class PlatformReadingsController {
  constructor(private readonly readings: PlatformReadings) {}

  @Get(':id/readings')
  @ApiOkResponse({
    type: [ReadingDto],
    description:
      "The newest readings, newest first, read over the platform's SSH connection (409 NOT_RUNNING, 502 READINGS_UNAVAILABLE)",
  })
  listReadings(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: ListReadingsQuery,
  ): Promise<ReadingDto[]> {
    return this.readings.latest(auth, id, query.limit ?? 20);
  }
}
