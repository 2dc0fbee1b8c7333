import type { User } from '../users/user.entity';
import type { SessionDto, UserDto } from './dto/auth.dto';
import type { Session } from './session.entity';

export function toUserDto(user: User): UserDto {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    sshPublicKey: user.sshPublicKey,
    createdAt: user.createdAt,
  };
}

export function toSessionDto(session: Session, currentSessionId: string): SessionDto {
  return {
    id: session.id,
    ip: session.ip,
    userAgent: session.userAgent,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    current: session.id === currentSessionId,
  };
}
