import { describe, expect, it } from 'vitest';
import { toSpaceOptions } from './space-forms';

describe('toSpaceOptions', () => {
  it('splits lists and leaves optional blanks to the API defaults', () => {
    expect(
      toSpaceOptions('aws', '', {
        region: ' eu-west-1 ',
        vpcCidr: '',
        ingressCidrs: '192.0.2.0/24, 198.51.100.7/32',
      }),
    ).toEqual({ region: 'eu-west-1', ingressCidrs: ['192.0.2.0/24', '198.51.100.7/32'] });
  });

  it('sends only the fields of the chosen OpenStack mode', () => {
    const values = { externalPool: 'public', networkName: 'lan', subnetCidr: '10.0.0.0/24' };
    expect(toSpaceOptions('openstack', 'existing', values)).toEqual({
      mode: 'existing',
      externalPool: 'public',
      networkName: 'lan',
      securityGroupName: '',
    });
    expect(toSpaceOptions('openstack', 'create', values)).toEqual({
      mode: 'create',
      externalPool: 'public',
      subnetCidr: '10.0.0.0/24',
    });
  });
});
