import { describe, expect, it } from 'vitest';
import {
  missingLaunchFields,
  defaultLaunchForm,
  defaultPorts,
  plainPortsWarning,
  portFields,
  portsHeldOnHost,
  proposeFreePorts,
  toLaunchInput,
  type LaunchDefaults,
} from './launch-form';

/** What GET /platforms/launch-defaults answers. */
const DEFAULTS: LaunchDefaults = {
  portsWithTls: {
    amqp: null,
    amqps: 5671,
    mqtt: null,
    mqtts: 8883,
    rabbitmqManagement: 15672,
    grafana: 3000,
  },
  portsWithoutTls: {
    amqp: 5672,
    amqps: null,
    mqtt: 1883,
    mqtts: null,
    rabbitmqManagement: 15672,
    grafana: 3000,
  },
};

describe('the launch form', () => {
  it('starts with TLS for devices on, and warns only once it is turned off', () => {
    const form = defaultLaunchForm();
    expect(form.tls).toBe(true);
    expect(toLaunchInput({ ...form, credentialId: 'c1' }, defaultPorts(DEFAULTS, true)).tls).toBe(
      true,
    );
    expect(plainPortsWarning(form.tls)).toBeNull();
    expect(plainPortsWarning(false)).toMatch(/plain text/);
  });
});

describe('the port fields', () => {
  it('are the ports the API publishes by default for the TLS choice, defaults as placeholders', () => {
    expect(portFields(defaultPorts(DEFAULTS, true))).toEqual([
      { key: 'amqps', label: 'AMQPS', placeholder: '5671', standard: 5671 },
      { key: 'mqtts', label: 'MQTTS', placeholder: '8883', standard: 8883 },
      { key: 'grafana', label: 'Grafana', placeholder: '3000', standard: 3000 },
      {
        key: 'rabbitmqManagement',
        label: 'RabbitMQ management',
        placeholder: '15672',
        standard: 15672,
      },
    ]);
    expect(portFields(defaultPorts(DEFAULTS, false)).map(({ key }) => key)).toEqual([
      'amqp',
      'mqtt',
      'grafana',
      'rabbitmqManagement',
    ]);
    expect(portFields(defaultPorts(undefined, true))).toEqual([]);
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
    expect(toLaunchInput(form, defaultPorts(DEFAULTS, false))).toEqual({
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

  it('sends the readings retention only when one is set', () => {
    const form = { ...defaultLaunchForm(), name: 'kept', credentialId: 'c1' };
    expect(toLaunchInput(form, {})).not.toHaveProperty('readingsRetentionDays');
    expect(toLaunchInput({ ...form, readingsRetentionDays: 30 }, {})).toMatchObject({
      readingsRetentionDays: 30,
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
    expect(toLaunchInput(form, defaultPorts(DEFAULTS, true))).toEqual({
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

describe('free ports for a host that already runs platforms', () => {
  const credentials = [
    { id: 'pi', host: 'Pi.local', port: 22 },
    { id: 'pi-again', host: 'pi.local', port: undefined },
    { id: 'other', host: 'pi.local', port: 2222 },
  ];
  const tlsPorts = DEFAULTS.portsWithTls;
  const platforms = [
    { target: 'ssh-host' as const, credentialId: 'pi', ports: tlsPorts },
    { target: 'ssh-host' as const, credentialId: 'other', ports: { ...tlsPorts, grafana: 3001 } },
  ];

  it('counts the platforms behind any credential for the same host and SSH port', () => {
    expect([...portsHeldOnHost('pi-again', credentials, platforms)].sort()).toEqual(
      [15672, 3000, 5671, 8883].sort(),
    );
    expect(portsHeldOnHost('other', credentials, platforms).has(3001)).toBe(true);
    expect(portsHeldOnHost(undefined, credentials, platforms).size).toBe(0);
  });

  it('proposes the next free port for each taken one and leaves free ones blank', () => {
    expect(
      proposeFreePorts(defaultPorts(DEFAULTS, true), new Set([5671, 8883, 15672, 3000, 5681])),
    ).toEqual({
      amqps: '5691',
      mqtts: '8893',
      rabbitmqManagement: '15682',
      grafana: '3010',
    });
    expect(
      proposeFreePorts(defaultPorts(DEFAULTS, false), new Set([5671, 8883, 15672, 3000])),
    ).toEqual({
      rabbitmqManagement: '15682',
      grafana: '3010',
    });
    expect(proposeFreePorts(defaultPorts(DEFAULTS, true), new Set())).toEqual({});
  });
});

describe('missingLaunchFields', () => {
  it('reports every missing field at once, the space only for targets that need one', () => {
    const empty = defaultLaunchForm();
    expect(missingLaunchFields({ ...empty, target: 'aws' })).toEqual({
      name: 'Enter a name for the platform',
      credentialId: 'Choose a credential of this kind',
      spaceId: 'Choose a space',
    });
    expect(Object.keys(missingLaunchFields({ ...empty, target: 'ssh-host' }))).toEqual([
      'name',
      'credentialId',
    ]);
    expect(
      missingLaunchFields({ ...empty, target: 'ssh-host', name: 'greenhouse', credentialId: 'c1' }),
    ).toEqual({});
  });
});
