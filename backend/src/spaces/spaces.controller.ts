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
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { CreateSpaceInput, SpaceAcceptedDto, SpaceDto, toSpaceDto } from './dto/space.dto';
import { SpacesService } from './spaces.service';

@ApiTags('spaces')
@ApiBearerAuth()
@Controller('spaces')
export class SpacesController {
  constructor(private readonly spaces: SpacesService) {}

  @Get()
  @ApiOkResponse({ type: [SpaceDto] })
  async listSpaces(@Auth() auth: AuthContext): Promise<SpaceDto[]> {
    return (await this.spaces.list(auth.userId)).map(toSpaceDto);
  }

  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: SpaceAcceptedDto, description: 'Creation runs as a deployment' })
  async createSpace(
    @Auth() auth: AuthContext,
    @Body() input: CreateSpaceInput,
  ): Promise<SpaceAcceptedDto> {
    const { space, deploymentId } = await this.spaces.create(auth, input);
    return { space: toSpaceDto(space), deploymentId };
  }

  @Get(':id')
  @ApiOkResponse({ type: SpaceDto })
  async getSpace(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<SpaceDto> {
    return toSpaceDto(await this.spaces.get(auth.userId, id));
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: SpaceAcceptedDto,
    description: '409 SPACE_IN_USE while platforms use it',
  })
  async deleteSpace(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<SpaceAcceptedDto> {
    const { space, deploymentId } = await this.spaces.delete(auth, id);
    return { space: toSpaceDto(space), deploymentId };
  }
}
