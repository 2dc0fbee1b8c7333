import { Global, Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { ServerKey } from './server-key';

@Global()
@Module({ providers: [PasswordHasher, ServerKey], exports: [PasswordHasher, ServerKey] })
export class CryptoModule {}
