import { describe, expect, it } from 'vitest';
import { latestReadingAt, noteReadingsSeen, readingTime, type Reading } from './use-readings';

const reading = (time: string): Reading => ({
  time,
  measurement: 'room',
  device: 'sensor-1',
  data: { celsius: 21.5 },
});

describe('latestReadingAt', () => {
  it('is the health check figure while no read has shown a newer reading', () => {
    expect(latestReadingAt('p-none', null)).toBeUndefined();
    expect(latestReadingAt('p-none', '2026-12-02T08:00:00.000Z')).toBe('2026-12-02T08:00:00.000Z');
  });

  it('is the newest reading a read has shown when the health check lags behind it', () => {
    noteReadingsSeen('p-seen', [
      reading('2026-12-02T08:00:05.000Z'),
      reading('2026-12-02T08:00:09.000Z'),
    ]);
    expect(latestReadingAt('p-seen', null)).toBe('2026-12-02T08:00:09.000Z');
    expect(latestReadingAt('p-seen', '2026-12-02T07:59:00.000Z')).toBe('2026-12-02T08:00:09.000Z');
    // A later health check wins, and an older read does not move the figure back.
    expect(latestReadingAt('p-seen', '2026-12-02T08:01:00.000Z')).toBe('2026-12-02T08:01:00.000Z');
    noteReadingsSeen('p-seen', [reading('2026-12-02T07:00:00.000Z')]);
    expect(latestReadingAt('p-seen', null)).toBe('2026-12-02T08:00:09.000Z');
  });
});

describe('readingTime', () => {
  it('is the clock time for a reading from today, with the date for an older one', () => {
    const now = new Date(2026, 11, 2, 15, 0, 0);
    const today = new Date(2026, 11, 2, 9, 30, 5);
    const yesterday = new Date(2026, 11, 1, 9, 30, 5);
    expect(readingTime(today.toISOString(), now)).toBe(today.toLocaleTimeString());
    expect(readingTime(yesterday.toISOString(), now)).toBe(yesterday.toLocaleString());
    expect(readingTime(yesterday.toISOString(), now)).toContain(yesterday.toLocaleDateString());
  });
});
