import { Injectable } from '@nestjs/common';
import {
  ADMIN_USER,
  type DeviceUser,
  PROCESSOR_USER,
  type RevokedCertificate,
} from '@fieldstation/platform-stack';
import type { DataKey } from '../crypto/data-key';
import type { Platform } from './platform.entity';

/** Broker logins the stack itself uses: no device may take them. */
export const RESERVED_DEVICE_NAMES: readonly string[] = [ADMIN_USER, PROCESSOR_USER];
export const RESERVED_DEVICE_NAME_MESSAGE = `${ADMIN_USER} and ${PROCESSOR_USER} are the platform's own broker logins`;

/** A device's login as the connection answer lists it: never its password. */
export interface DeviceLogin {
  name: string;
  /** Its current password was shown once already (created, rotated or revealed). */
  passwordRevealed: boolean;
}

/** What platforms need from the device registry (`devices/`), which sits above them. */
export interface DeviceRegistryPort {
  /** Registers the names given at launch, with generated passwords, before the first render. */
  enrollAtLaunch(platform: Platform, names: string[], dataKey: DataKey): Promise<void>;
  /** The platform's active devices with their passwords: what a (re)launch renders. */
  activeDeviceUsers(platform: Platform, dataKey: DataKey): Promise<DeviceUser[]>;
  /** The platform's active devices without secrets: what the connection answer lists. */
  activeDeviceLogins(platform: Platform): Promise<DeviceLogin[]>;
  /** Device certificates of the platform's CA that were renewed away or revoked, unexpired. */
  revokedCertificates(platform: Platform): Promise<RevokedCertificate[]>;
}

/**
 * Where the device registry registers itself (it imports platforms, so platforms cannot import
 * it). The registry is the one source of a platform's device logins.
 */
@Injectable()
export class PlatformDevices implements DeviceRegistryPort {
  private registry: DeviceRegistryPort | undefined;

  register(registry: DeviceRegistryPort): void {
    if (this.registry) throw new Error('A device registry is registered twice');
    this.registry = registry;
  }

  enrollAtLaunch(platform: Platform, names: string[], dataKey: DataKey): Promise<void> {
    return this.required().enrollAtLaunch(platform, names, dataKey);
  }

  activeDeviceUsers(platform: Platform, dataKey: DataKey): Promise<DeviceUser[]> {
    return this.required().activeDeviceUsers(platform, dataKey);
  }

  activeDeviceLogins(platform: Platform): Promise<DeviceLogin[]> {
    return this.required().activeDeviceLogins(platform);
  }

  revokedCertificates(platform: Platform): Promise<RevokedCertificate[]> {
    return this.required().revokedCertificates(platform);
  }

  private required(): DeviceRegistryPort {
    if (!this.registry) throw new Error('No device registry is registered (DevicesModule)');
    return this.registry;
  }
}
