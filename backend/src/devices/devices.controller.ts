import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, type AuthContext } from '../common/auth-context';
import { Origin, type RequestOrigin } from '../common/request-origin';
import { DeviceCommands } from './device-commands';
import { DeviceImports } from './device-imports';
import { DeviceRegistry } from './device-registry';
import {
  DeviceImportStartedDto,
  DeviceImportStatusDto,
  ExportImportedPasswordsInput,
  ImportDevicesInput,
} from './dto/device-import.dto';
import {
  CommandSentDto,
  RetainedCommandClearedDto,
  CopiedDevicesDto,
  CreatedDeviceDto,
  CreateDeviceInput,
  DeviceDto,
  DeviceStatusDto,
  DeviceWithPasswordDto,
  ListDevicesQuery,
  SendCommandInput,
  toDeviceDto,
  toDeviceStatusDto,
  UnknownPublisherDto,
  UpdateDeviceInput,
} from './dto/device.dto';

@ApiTags('devices')
@ApiBearerAuth()
@Controller('platforms/:id/devices')
export class DevicesController {
  constructor(
    private readonly registry: DeviceRegistry,
    private readonly commands: DeviceCommands,
    private readonly imports: DeviceImports,
  ) {}

  @Get()
  @ApiOkResponse({
    type: [DeviceStatusDto],
    description:
      'Filters combine: status, label, name prefix, online, silentForMinutes; sort=lastSeen. ' +
      "Live state in one round trip: the broker's connection list and the processor's " +
      'per-device figures, asked at once (each null when it cannot be asked within 3 s)',
  })
  async listDevices(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: ListDevicesQuery,
  ): Promise<DeviceStatusDto[]> {
    return (await this.registry.listWithStatus(auth, id, query)).map(toDeviceStatusDto);
  }

  @Post()
  @ApiCreatedResponse({
    type: CreatedDeviceDto,
    description:
      'On the running broker at once; the password and the certificate (with the generated ' +
      'private key, when no CSR was given) are shown only here. 400 VALIDATION_FAILED (also a ' +
      'CSR refused), 409 DEVICE_NAME_TAKEN, 409 PLATFORM_NOT_RUNNING, 409 PLATFORM_WITHOUT_TLS ' +
      '(a certificate device), 502 BROKER_CHANGE_FAILED (nothing registered)',
  })
  async createDevice(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: CreateDeviceInput,
  ): Promise<CreatedDeviceDto> {
    const { device, password, certificate } = await this.registry.create(auth, id, input, origin);
    return {
      device: toDeviceDto(device),
      ...(password === null ? {} : { password }),
      ...(certificate ? { certificate } : {}),
    };
  }

  @Get(':name')
  @ApiOkResponse({
    type: DeviceStatusDto,
    description: 'The active device, else its latest revoked record; with its live state',
  })
  async getDevice(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
  ): Promise<DeviceStatusDto> {
    return toDeviceStatusDto(await this.registry.getWithStatus(auth, id, name));
  }

  @Patch(':name')
  @ApiOkResponse({
    type: DeviceDto,
    description: 'Labels and metadata; the broker is not involved',
  })
  async updateDevice(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
    @Body() input: UpdateDeviceInput,
  ): Promise<DeviceDto> {
    return toDeviceDto(await this.registry.update(auth.userId, id, name, input));
  }

  @Delete(':name')
  @ApiOkResponse({
    type: DeviceDto,
    description: 'Revokes: the broker user is deleted and its open connections closed at once',
  })
  async revokeDevice(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
  ): Promise<DeviceDto> {
    return toDeviceDto(await this.registry.revoke(auth, id, name, origin));
  }

  @Post(':name/reveal-password')
  @HttpCode(200)
  @ApiOkResponse({
    type: DeviceWithPasswordDto,
    description:
      'The password of a device enrolled at launch, shown once (audited). 409 ' +
      'PASSWORD_ALREADY_REVEALED after that, or for a created or rotated device: rotate instead',
  })
  async revealDevicePassword(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
  ): Promise<DeviceWithPasswordDto> {
    const { device, password } = await this.registry.revealPassword(auth, id, name, origin);
    return { device: toDeviceDto(device), password };
  }

  @Post(':name/rotate')
  @ApiCreatedResponse({
    type: DeviceWithPasswordDto,
    description: 'A new password, shown only here; the old one and its connections end at once',
  })
  async rotateDevice(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
  ): Promise<DeviceWithPasswordDto> {
    const { device, password } = await this.registry.rotate(auth, id, name, origin);
    return { device: toDeviceDto(device), password };
  }

  @Post(':name/commands')
  @HttpCode(200)
  @ApiOkResponse({
    type: CommandSentDto,
    description:
      'Publishes the payload to commands/<name> (AMQP commands.<name> on amq.topic); only that ' +
      "device may subscribe to it. With retain, the broker keeps it as the topic's retained " +
      'command (published over MQTT) and a later subscription to commands/<name> gets it. ' +
      'Audited (without the payload). 413 COMMAND_TOO_LARGE over 64 KB, 404 DEVICE_NOT_FOUND, ' +
      '409 DEVICE_REVOKED, 409 PLATFORM_NOT_RUNNING, 409 MQTT_LISTENER_UNAVAILABLE (retain), 502 ' +
      'BROKER_CHANGE_FAILED',
  })
  async sendDeviceCommand(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
    @Body() input: SendCommandInput,
  ): Promise<CommandSentDto> {
    return this.commands.send(auth, id, name, input, origin);
  }

  @Delete(':name/commands/retained')
  @ApiOkResponse({
    type: RetainedCommandClearedDto,
    description:
      "Clears the device's retained command (an empty retained message to commands/<name>, " +
      'which a device subscribed right now also receives); a later subscription gets none. ' +
      'Clearing none is fine. Audited. 404 DEVICE_NOT_FOUND, 409 DEVICE_REVOKED, 409 ' +
      'PLATFORM_NOT_RUNNING, 409 MQTT_LISTENER_UNAVAILABLE, 502 BROKER_CHANGE_FAILED',
  })
  async clearRetainedDeviceCommand(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
  ): Promise<RetainedCommandClearedDto> {
    return this.commands.clearRetained(auth, id, name, origin);
  }

  /** Declared after the `:name/…` routes, which a device named `copy-from` must still reach. */
  @Post('copy-from/:otherId')
  @HttpCode(200)
  @ApiOkResponse({
    type: CopiedDevicesDto,
    description:
      "Re-applies the other platform's active devices with the same credentials (no " +
      're-flashing); names already here are skipped. On a running platform the broker users ' +
      'exist when this answers (502 BROKER_CHANGE_FAILED: none copied); otherwise the next ' +
      "launch or update renders them. 404 PLATFORM_NOT_FOUND for another user's platform",
  })
  async copyDevicesFrom(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('otherId', ParseUUIDPipe) otherId: string,
  ): Promise<CopiedDevicesDto> {
    const { copied, skipped } = await this.registry.copyFrom(auth, id, otherId, origin);
    return { copied: copied.map(toDeviceDto), skipped };
  }
  @Post('import')
  @HttpCode(202)
  @ApiAcceptedResponse({
    type: DeviceImportStartedDto,
    description:
      'Checks every row, then imports as a job (follow GET …/devices/imports/:importId). ' +
      'Names already active are skipped. 400 VALIDATION_FAILED (rows listed, nothing applied; ' +
      'duplicates too), 413 TOO_MANY_ROWS (over 10,000), 409 PLATFORM_NOT_RUNNING, 409 ' +
      'DEPLOYMENT_IN_PROGRESS',
  })
  async importDevices(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() input: ImportDevicesInput,
  ): Promise<DeviceImportStartedDto> {
    return this.imports.start(auth, id, input, origin);
  }

  @Get('imports/:importId')
  @ApiOkResponse({ type: DeviceImportStatusDto, description: 'Progress: done of total' })
  async getDeviceImport(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('importId', ParseUUIDPipe) importId: string,
  ): Promise<DeviceImportStatusDto> {
    return this.imports.status(auth, id, importId);
  }

  @Post('imports/:importId/passwords')
  @HttpCode(200)
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description:
      "The new devices' passwords as CSV name,password, once (audited); again only to a retry " +
      'with the same downloadToken within 10 minutes. 410 PASSWORDS_ALREADY_EXPORTED after ' +
      'that; 409 IMPORT_NOT_FINISHED while the import runs',
  })
  async exportImportedPasswords(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('importId', ParseUUIDPipe) importId: string,
    @Body() input: ExportImportedPasswordsInput,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const csv = await this.imports.exportPasswords(
      auth,
      id,
      importId,
      origin,
      input.downloadToken ?? null,
    );
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', 'attachment; filename="device-passwords.csv"');
    response.setHeader('Cache-Control', 'no-store');
    return csv;
  }
}

/** Outside `devices/`: any DNS label, such as `unknown-publishers`, may name a device. */
@ApiTags('devices')
@ApiBearerAuth()
@Controller('platforms/:id/unknown-publishers')
export class UnknownPublishersController {
  constructor(private readonly registry: DeviceRegistry) {}

  @Get()
  @ApiOkResponse({
    type: [UnknownPublisherDto],
    description:
      'Names the processor stored readings of (since it started) that are no active device: ' +
      'only legacy paths produce them. Empty when the processor cannot be asked',
  })
  async listUnknownPublishers(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<UnknownPublisherDto[]> {
    return this.registry.unknownPublishers(auth, id);
  }
}
