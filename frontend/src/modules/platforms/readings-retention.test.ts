import { describe, expect, it } from 'vitest';
import {
  diskUseText,
  parseRetention,
  retentionCutoffWarning,
  retentionText,
} from './readings-retention';

describe('readings retention in the platform settings', () => {
  it('says how long readings are kept', () => {
    expect(retentionText(30)).toBe('Keep readings: 30 days');
    expect(retentionText(1)).toBe('Keep readings: 1 day');
    expect(retentionText(null)).toBe('Keep readings: for ever');
  });

  it('reads the edit field: empty keeps all, whole days in range, anything else says why', () => {
    expect(parseRetention(' 90 ')).toEqual({ days: 90 });
    expect(parseRetention('')).toEqual({ days: null });
    expect(parseRetention('0')).toEqual({ error: 'Between 1 and 3650 days' });
    expect(parseRetention('3651')).toEqual({ error: 'Between 1 and 3650 days' });
    for (const text of ['1.5', '-3', '30d', '7; DROP TABLE readings']) {
      expect(parseRetention(text)).toHaveProperty('error');
    }
  });

  it('shows the data volume use', () => {
    expect(diskUseText({ usedPercent: 87.5, bytesFree: 1_250_000_000 })).toBe(
      '87.5 % used, 1.3 GB free',
    );
    expect(diskUseText({ usedPercent: 99.9, bytesFree: 512 })).toBe('99.9 % used, 512 bytes free');
  });
});

describe('retentionCutoffWarning', () => {
  const now = new Date('2026-12-02T12:00:00Z');

  it('names the cutoff date when a change keeps readings for less time', () => {
    expect(retentionCutoffWarning(null, 30, now)).toMatch(/^Readings from before 2 Nov 2026 /);
    expect(retentionCutoffWarning(100, 1, now)).toMatch(/^Readings from before 1 Dec 2026 /);
  });

  it('says nothing when no more readings are deleted than before', () => {
    expect(retentionCutoffWarning(30, null, now)).toBe('');
    expect(retentionCutoffWarning(30, 30, now)).toBe('');
    expect(retentionCutoffWarning(30, 90, now)).toBe('');
  });
});
