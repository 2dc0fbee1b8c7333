import { describe, expect, it } from 'vitest';
import { expiredBackups, isoWeek } from './backup-retention';

/** One backup every 6 hours from 2026-11-01 to 2026-11-30 (120 backups). */
const everySixHours = Array.from({ length: 120 }, (_, i) => {
  const createdAt = new Date(Date.UTC(2026, 10, 1) + i * 6 * 3_600_000);
  return { key: createdAt.toISOString(), createdAt };
});
const keptKeys = (policy: Parameters<typeof expiredBackups>[1]) => {
  const expired = new Set(expiredBackups(everySixHours, policy));
  return everySixHours.filter((backup) => !expired.has(backup)).map((backup) => backup.key);
};

describe('backup retention', () => {
  it('keeps the newest N', () => {
    expect(keptKeys({ keepLast: 3, keepDaily: 0, keepWeekly: 0 })).toEqual([
      '2026-11-30T06:00:00.000Z',
      '2026-11-30T12:00:00.000Z',
      '2026-11-30T18:00:00.000Z',
    ]);
  });

  it('keeps the newest of each of the last N days and weeks besides the last N', () => {
    const kept = keptKeys({ keepLast: 2, keepDaily: 3, keepWeekly: 3 });
    expect(kept).toEqual([
      // newest of ISO week 2026-W47 (Mon 16 – Sun 22 Nov)
      '2026-11-22T18:00:00.000Z',
      // newest of 28 and 29 Nov (days), 29 Nov also the newest of W48
      '2026-11-28T18:00:00.000Z',
      '2026-11-29T18:00:00.000Z',
      // keepLast 2; the newest is also 30 Nov's day and W49's newest
      '2026-11-30T12:00:00.000Z',
      '2026-11-30T18:00:00.000Z',
    ]);
  });

  it('always keeps the newest backup, and nothing expires from an empty list', () => {
    expect(keptKeys({ keepLast: 0, keepDaily: 0, keepWeekly: 0 })).toEqual([
      '2026-11-30T18:00:00.000Z',
    ]);
    expect(expiredBackups([], { keepLast: 1, keepDaily: 1, keepWeekly: 1 })).toEqual([]);
  });

  it('names ISO weeks across a year boundary', () => {
    expect(isoWeek(new Date('2026-11-30T00:00:00Z'))).toBe('2026-W49');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
  });
});
