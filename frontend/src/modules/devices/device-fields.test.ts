import { describe, expect, it } from 'vitest';
import {
  deviceNameProblem,
  formatLabels,
  formatMetadata,
  parseLabels,
  parseMetadata,
} from './device-fields';

describe('deviceNameProblem', () => {
  it('takes DNS labels and refuses the rest and the platform’s own logins', () => {
    expect(deviceNameProblem('pi-0042')).toBeUndefined();
    expect(deviceNameProblem('a'.repeat(63))).toBeUndefined();
    for (const bad of ['', '0pi', 'pi-', 'Pi', 'pi_1', 'pi.1', 'a'.repeat(64)]) {
      expect(deviceNameProblem(bad)).toBeDefined();
    }
    expect(deviceNameProblem('fieldstation-processor')).toContain("platform's own broker logins");
  });
});

describe('labels', () => {
  it('parses key=value pairs split by ";" or lines, and formats them back', () => {
    const parsed = parseLabels(' site = greenhouse-2 ;\nexample.com/role=gate=1; ');
    expect(parsed).toEqual({
      ok: true,
      value: { site: 'greenhouse-2', 'example.com/role': 'gate=1' },
    });
    expect(formatLabels({ site: 'a', model: 'b' })).toBe('site=a; model=b');
    expect(parseLabels('')).toEqual({ ok: true, value: {} });
  });

  it('refuses pairs without "=", bad keys, long values, repeats and more than 32', () => {
    expect(parseLabels('site')).toEqual({ ok: false, problem: '"site" is not key=value' });
    expect(parseLabels('-x=1').ok).toBe(false);
    expect(parseLabels(`a=${'v'.repeat(256)}`).ok).toBe(false);
    expect(parseLabels('a=1;a=2')).toEqual({ ok: false, problem: 'label "a" is given twice' });
    const many = Array.from({ length: 33 }, (_, index) => `k${index}=v`).join(';');
    expect(parseLabels(many)).toEqual({ ok: false, problem: 'at most 32 labels' });
  });
});

describe('metadata', () => {
  it('takes a JSON object or blank, and refuses anything else', () => {
    expect(parseMetadata('')).toEqual({ ok: true, value: {} });
    expect(parseMetadata('{"firmware":"1.4.2"}')).toEqual({
      ok: true,
      value: { firmware: '1.4.2' },
    });
    expect(parseMetadata('[1]').ok).toBe(false);
    expect(parseMetadata('{').ok).toBe(false);
    expect(parseMetadata(JSON.stringify({ blob: 'x'.repeat(8200) }))).toEqual({
      ok: false,
      problem: 'must be at most 8192 bytes',
    });
    expect(formatMetadata({})).toBe('');
    expect(formatMetadata({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
