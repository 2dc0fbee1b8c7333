import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PlatformsModule } from '../platforms/platforms.module';
import { ProvisionModule } from '../provision/provision.module';
import { ScriptDebuggingController } from './script-debugging.controller';
import { ScriptDebugging } from './script-debugging.service';

@Module({
  imports: [AuthModule, PlatformsModule, ProvisionModule],
  controllers: [ScriptDebuggingController],
  providers: [ScriptDebugging],
})
export class ScriptDebuggingModule {}
