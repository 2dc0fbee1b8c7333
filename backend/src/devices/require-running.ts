import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { Platform } from '../platforms/platform.entity';

/**
 * Devices change on a running platform only (issue 14 item 10): its broker and host take the
 * change at once. Else 409 PLATFORM_NOT_RUNNING, nothing changed.
 */
export function requireRunning(platform: Platform): Platform {
  if (platform.status !== 'running') {
    throw new ApiError(
      HttpStatus.CONFLICT,
      'PLATFORM_NOT_RUNNING',
      `The platform is ${platform.status.replace('_', ' ')}, not running: devices change ` +
        'on a running platform (a launch renders the registry)',
    );
  }
  return platform;
}
