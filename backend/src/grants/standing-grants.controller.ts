import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { StandingGrantDto } from './dto/standing-grant.dto';
import { StandingGrants } from './standing-grants.service';

/** The account page's list of standing grants (DESIGN §11), each revocable. */
@ApiTags('account')
@ApiBearerAuth()
@Controller('account/grants')
export class StandingGrantsController {
  constructor(private readonly grants: StandingGrants) {}

  @Get()
  @ApiOkResponse({ type: [StandingGrantDto] })
  listGrants(@Auth() auth: AuthContext): Promise<StandingGrantDto[]> {
    return this.grants.list(auth.userId);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revokeGrant(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.grants.revoke(auth.userId, id);
  }
}
