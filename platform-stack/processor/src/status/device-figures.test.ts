import { describe, expect, it } from 'vitest';
import { DeviceFigures } from './device-figures';

const at = (minute: number, second = 0) => Date.UTC(2026, 11, 2, 8, minute, second);

describe('DeviceFigures', () => {
  it('keeps each device’s last reading and its readings of the last hour', () => {
    const figures = new DeviceFigures();
    figures.record('pi-a', at(0), 3);
    figures.record('pi-a', at(30, 5));
    figures.record('pi-b', at(45));
    expect(figures.snapshot(at(50))).toEqual({
      'pi-a': { lastReadingAt: new Date(at(30, 5)).toISOString(), readingsLastHour: 4 },
      'pi-b': { lastReadingAt: new Date(at(45)).toISOString(), readingsLastHour: 1 },
    });
    // An hour later minute 0 has left the window; minute 30 and 45 are still in it at 9:29.
    expect(figures.snapshot(at(89))['pi-a']!.readingsLastHour).toBe(1);
    // A slot reused an hour later counts afresh.
    figures.record('pi-a', at(60));
    expect(figures.snapshot(at(60))['pi-a']!.readingsLastHour).toBe(2);
  });

  it('holds at most maxDevices, forgetting the one silent the longest', () => {
    const figures = new DeviceFigures(2);
    figures.record('old', at(0));
    figures.record('mid', at(1));
    figures.record('old', at(2));
    figures.record('new', at(3));
    expect(figures.size).toBe(2);
    expect(Object.keys(figures.snapshot(at(3))).sort()).toEqual(['new', 'old']);
  });
});
