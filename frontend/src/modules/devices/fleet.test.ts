import { describe, expect, it } from 'vitest';
import { fleetQuery } from './fleet';

describe('fleetQuery', () => {
  it('sends only the filters given, trimmed', () => {
    expect(fleetQuery({ status: 'all', label: '', prefix: '', silentMinutes: '' })).toEqual({
      ok: true,
      query: {},
    });
    expect(
      fleetQuery({ status: 'active', label: ' site:row 3 ', prefix: 'pi-', silentMinutes: ' 60 ' }),
    ).toEqual({
      ok: true,
      query: { status: 'active', label: 'site:row 3', prefix: 'pi-', silentForMinutes: 60 },
    });
  });

  it('names the filter the API would refuse', () => {
    expect(
      fleetQuery({ status: 'revoked', label: 'site', prefix: 'Pi', silentMinutes: '0' }),
    ).toEqual({
      ok: false,
      problems: {
        label: 'Write the label as key:value',
        prefix: 'Names hold only lowercase letters, digits and "-"',
        silentMinutes: 'A whole number of minutes, 1 or more',
      },
    });
    expect(fleetQuery({ status: 'all', label: '', prefix: '', silentMinutes: '1.5' }).ok).toBe(
      false,
    );
  });
});
