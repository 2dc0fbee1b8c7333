import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { toSessionDto, toUserDto } from './auth.mappers';
import { AuthService } from './auth.service';
import { Auth, Public, type AuthContext } from '../common/auth-context';
import {
  ChangePasswordDto,
  LoginDto,
  PasswordConfirmationDto,
  RefreshDto,
  RegisterDto,
  SessionDto,
  SshPrivateKeyDto,
  SshPublicKeyDto,
  TokensDto,
  UserResponseDto,
} from './dto/auth.dto';
import {
  clearRefreshCookie,
  REFRESH_COOKIE,
  refreshCookieOf,
  setRefreshCookie,
} from './refresh-cookie';
import { Origin, type RequestOrigin } from '../common/request-origin';
import { SessionsService } from './sessions.service';
import { sshFingerprint } from '../users/ssh-key-pair';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  @Public()
  @Post('register')
  @ApiCreatedResponse({ type: UserResponseDto })
  async register(
    @Body() body: RegisterDto,
    @Origin() origin: RequestOrigin,
  ): Promise<UserResponseDto> {
    return { user: toUserDto(await this.auth.register(body, origin)) };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({
    type: TokensDto,
    description: `The refresh token is set as the httpOnly cookie ${REFRESH_COOKIE}`,
  })
  async login(
    @Body() body: LoginDto,
    @Origin() origin: RequestOrigin,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokensDto> {
    const { accessToken, refreshToken, user } = await this.auth.login(body, origin);
    setRefreshCookie(request, response, refreshToken);
    return { accessToken, user: toUserDto(user) };
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiCookieAuth(REFRESH_COOKIE)
  @ApiOkResponse({
    type: TokensDto,
    description: `The rotated refresh token is set as the httpOnly cookie ${REFRESH_COOKIE}`,
  })
  async refresh(
    @Body() body: RefreshDto,
    @Origin() origin: RequestOrigin,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokensDto> {
    // A failed refresh leaves the cookie alone: another tab may have just rotated it, and
    // clearing it here would throw away the one that works.
    const presented = body.refreshToken ?? refreshCookieOf(request);
    const { accessToken, refreshToken, user } = await this.auth.refresh(presented, origin);
    setRefreshCookie(request, response, refreshToken);
    return { accessToken, user: toUserDto(user) };
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth(REFRESH_COOKIE)
  @ApiNoContentResponse({ description: `Ends the session and clears the ${REFRESH_COOKIE} cookie` })
  async logout(
    @Body() body: RefreshDto,
    @Origin() origin: RequestOrigin,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const presented = body.refreshToken ?? refreshCookieOf(request);
    if (presented) await this.auth.logout(presented, origin);
    clearRefreshCookie(request, response);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserResponseDto })
  async me(@Auth() auth: AuthContext): Promise<UserResponseDto> {
    return { user: toUserDto(await this.auth.currentUser(auth)) };
  }

  @Post('password')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Changed; every other session is signed out' })
  async changePassword(
    @Auth() auth: AuthContext,
    @Body() body: ChangePasswordDto,
    @Origin() origin: RequestOrigin,
  ): Promise<void> {
    await this.auth.changePassword(auth, body, origin);
  }

  @Delete('account')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'The account and everything it owns are deleted' })
  async deleteAccount(
    @Auth() auth: AuthContext,
    @Body() body: PasswordConfirmationDto,
    @Origin() origin: RequestOrigin,
  ): Promise<void> {
    await this.auth.deleteAccount(auth, body.password, origin);
  }

  @Get('sessions')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [SessionDto] })
  async listSessions(@Auth() auth: AuthContext): Promise<SessionDto[]> {
    const sessions = await this.sessions.list(auth.userId);
    return sessions.map((session) => toSessionDto(session, auth.sessionId));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse()
  async revokeSession(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Origin() origin: RequestOrigin,
  ): Promise<void> {
    await this.auth.revokeSession(auth, id, origin);
  }

  @Get('ssh-key')
  @ApiBearerAuth()
  @ApiOkResponse({ type: SshPublicKeyDto })
  async sshPublicKey(@Auth() auth: AuthContext): Promise<SshPublicKeyDto> {
    const user = await this.auth.currentUser(auth);
    return { publicKey: user.sshPublicKey, fingerprint: sshFingerprint(user.sshPublicKey) };
  }

  @Post('ssh-key/reveal')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: SshPrivateKeyDto })
  async revealSshPrivateKey(
    @Auth() auth: AuthContext,
    @Body() body: PasswordConfirmationDto,
    @Origin() origin: RequestOrigin,
  ): Promise<SshPrivateKeyDto> {
    return { privateKey: await this.auth.revealSshPrivateKey(auth, body.password, origin) };
  }
}
