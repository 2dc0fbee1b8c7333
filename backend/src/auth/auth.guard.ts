import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../common/api-error';
import { IS_PUBLIC, type AuthenticatedRequest } from '../common/auth-context';
import { SessionsService } from './sessions.service';
import { Tokens } from './tokens';

/**
 * Global guard: every route needs a valid access token of a live session unless marked
 * @Public(). Checking the session row makes logout and revocation take effect at once.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: Tokens,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const [scheme, token] = (request.headers.authorization ?? '').split(' ');
    if (scheme !== 'Bearer' || !token) {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'UNAUTHENTICATED',
        'Sign in first: no access token',
      );
    }
    const auth = await this.tokens.verifyAccessToken(token);
    const session = await this.sessions.findActive(auth.sessionId);
    if (!session || session.userId !== auth.userId) {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'SESSION_EXPIRED',
        'Session has ended; sign in again',
      );
    }
    request.auth = auth;
    return true;
  }
}
