import { describe, expect, it } from 'vitest';
import { fleetQuery } from './fleet';

describe('fleetQuery', () => {
  it('sends only the filters given, trimmed', () => {
    expect(fleetQuery({ status: 'all', label: '', prefix: '' })).toEqual({ ok: true, query: {} });
    expect(fleetQuery({ status: 'active', label: ' site:row 3 ', prefix: 'pi-' })).toEqual({
      ok: true,
      query: { status: 'active', label: 'site:row 3', prefix: 'pi-' },
    });
  });

  it('names the filter the API would refuse', () => {
    expect(fleetQuery({ status: 'revoked', label: 'site', prefix: 'Pi' })).toEqual({
      ok: false,
      problems: {
        label: 'Write the label as key:value',
        prefix: 'Names hold only lowercase letters, digits and "-"',
      },
    });
  });
});
