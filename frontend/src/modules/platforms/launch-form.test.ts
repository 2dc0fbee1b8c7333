import { describe, expect, it } from 'vitest';
import { defaultLaunchForm, plainPortsWarning, toLaunchInput } from './launch-form';

describe('the launch form', () => {
  it('starts with TLS for devices on, and warns only once it is turned off', () => {
    const form = defaultLaunchForm();
    expect(form.tls).toBe(true);
    expect(toLaunchInput({ ...form, credentialId: 'c1' }).tls).toBe(true);
    expect(plainPortsWarning(form.tls)).toBeNull();
    expect(plainPortsWarning(false)).toMatch(/plain text/);
  });
});

describe('toLaunchInput', () => {
  it('sends an ssh-host launch with its ports and no space or volume size', () => {
    const form = {
      ...defaultLaunchForm(),
      tls: false,
      name: ' greenhouse ',
      credentialId: 'c1',
      spaceId: 'left-over',
      dataVolumeGb: 50,
      deviceUsers: 'pi-1, pi-2,',
      ports: { mqtt: '11883', amqp: '', mqtts: '8884' },
      options: { dataDevice: '', instanceType: 't3.large' },
    };
    expect(toLaunchInput(form)).toEqual({
      name: 'greenhouse',
      target: 'ssh-host',
      credentialId: 'c1',
      database: 'postgres',
      dataVolumeGb: 20,
      tls: false,
      deviceUsers: ['pi-1', 'pi-2'],
      ports: { mqtt: 11883 },
    });
  });

  it('sends a cloud launch with its space and instance options', () => {
    const form = {
      ...defaultLaunchForm(),
      name: 'lab',
      target: 'openstack' as const,
      credentialId: 'c2',
      spaceId: 's1',
      database: 'influxdb' as const,
      dataVolumeGb: 40,
      tls: true,
      ports: { mqtt: '1' },
      options: { flavorName: 'm1.small' },
    };
    expect(toLaunchInput(form)).toEqual({
      name: 'lab',
      target: 'openstack',
      credentialId: 'c2',
      spaceId: 's1',
      database: 'influxdb',
      dataVolumeGb: 40,
      tls: true,
      deviceUsers: ['device-1'],
      options: { flavorName: 'm1.small', imageName: '' },
    });
  });
});
