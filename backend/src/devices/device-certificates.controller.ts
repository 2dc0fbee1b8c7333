import { Body, Controller, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { Origin, type RequestOrigin } from '../common/request-origin';
import { DeviceCertificates } from './device-certificates';
import { DeviceWithCertificateDto, RenewCertificateInput, toDeviceDto } from './dto/device.dto';

@ApiTags('devices')
@ApiBearerAuth()
@Controller('platforms/:id/devices')
export class DeviceCertificatesController {
  constructor(private readonly certificates: DeviceCertificates) {}

  @Post(':name/certificate')
  @ApiCreatedResponse({
    type: DeviceWithCertificateDto,
    description:
      'Renews the client certificate of a certificate / both device, shown only here: for the ' +
      "CSR's key (the same or a new CSR), else a new key pair. The broker needs no change; the " +
      'previous certificate stays valid until it expires. Audited. 400 VALIDATION_FAILED (CSR ' +
      'refused), 404 DEVICE_NOT_FOUND, 409 DEVICE_REVOKED, 409 DEVICE_WITHOUT_CERTIFICATE, ' +
      '409 PLATFORM_WITHOUT_TLS',
  })
  async renewDeviceCertificate(
    @Auth() auth: AuthContext,
    @Origin() origin: RequestOrigin,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('name') name: string,
    @Body() input: RenewCertificateInput,
  ): Promise<DeviceWithCertificateDto> {
    const { device, certificate } = await this.certificates.renew(
      auth,
      id,
      name,
      input.csr,
      origin,
    );
    return { device: toDeviceDto(device), certificate };
  }
}
