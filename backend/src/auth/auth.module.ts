import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ServerKey } from '../crypto/server-key';
import { UsersModule } from '../users/users.module';
import { AccountResources } from './account-resources';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { RateLimiter } from './rate-limiter';
import { Session } from './session.entity';
import { SessionsService } from './sessions.service';
import { accessTokenJwtOptions, Tokens } from './tokens';

@Module({
  imports: [
    TypeOrmModule.forFeature([Session]),
    JwtModule.registerAsync({ inject: [ServerKey], useFactory: accessTokenJwtOptions }),
    UsersModule,
    AuditModule,
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccountResources,
    SessionsService,
    Tokens,
    RateLimiter,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [SessionsService, AccountResources, RateLimiter],
})
export class AuthModule {}
