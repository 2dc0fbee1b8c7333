import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

const PASSWORD_MAX = 1024;

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.org', maxLength: 254 })
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'ada', minLength: 1, maxLength: 64 })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'username may use letters, digits, dot, dash and underscore (at most 64)',
  })
  username!: string;

  @ApiProperty({
    description: 'At least 10 characters, not a common password',
    maxLength: PASSWORD_MAX,
  })
  @IsString()
  @MaxLength(PASSWORD_MAX)
  password!: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.org' })
  @IsString()
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({
    required: false,
    description:
      'Only for API clients that keep the token outside a cookie jar; otherwise it is read from the `fieldstation_refresh` cookie',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken?: string;
}

export class PasswordConfirmationDto {
  @ApiProperty({ description: 'The current password, asked again for sensitive actions' })
  @IsString()
  @MaxLength(PASSWORD_MAX)
  password!: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX)
  currentPassword!: string;

  @ApiProperty({ description: 'At least 10 characters, not a common password' })
  @IsString()
  @MaxLength(PASSWORD_MAX)
  newPassword!: string;
}

export class UserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ description: 'Add this to authorized_keys on SSH hosts' }) sshPublicKey!: string;
  @ApiProperty() createdAt!: Date;
}

export class UserResponseDto {
  @ApiProperty({ type: UserDto }) user!: UserDto;
}

/**
 * A signed-in answer. The refresh token is never in the body: it comes as the httpOnly
 * `fieldstation_refresh` cookie (Set-Cookie), out of reach of page scripts.
 */
export class TokensDto {
  @ApiProperty({ description: 'Bearer token, valid 15 minutes; keep it in memory only' })
  accessToken!: string;
  @ApiProperty({ type: UserDto }) user!: UserDto;
}

export class SessionDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() lastUsedAt!: Date;
  @ApiProperty() expiresAt!: Date;
  @ApiProperty({ description: 'The session making this request' }) current!: boolean;
}

export class SshPublicKeyDto {
  @ApiProperty() publicKey!: string;
  @ApiProperty({ example: 'SHA256:…' }) fingerprint!: string;
}

export class SshPrivateKeyDto {
  @ApiProperty({ description: 'OpenSSH private key' }) privateKey!: string;
}
