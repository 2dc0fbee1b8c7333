import { describe, expect, it } from 'vitest';
import { checkedCron, drillCron, nextRun, PRESETS } from './backup-cron';

describe('backup cron expressions', () => {
  const at = (iso: string) => new Date(iso);

  it('accepts the presets and gaps of 15 minutes or more, answering the next run', () => {
    for (const cron of Object.values(PRESETS)) expect(() => checkedCron(cron)).not.toThrow();
    expect(checkedCron('0 */6 * * *', at('2026-12-02T05:03:00Z')).next).toEqual(
      at('2026-12-02T06:00:00Z'),
    );
    expect(checkedCron('*/15 * * * *').next).toBeInstanceOf(Date);
  });

  it('refuses a gap under 15 minutes anywhere in its runs, whatever the time it is checked', () => {
    // Review: both passed when only the next two runs were compared at these moments.
    expect(() => checkedCron('* 3 * * *', at('2026-12-02T03:58:30Z'))).toThrow(
      'runs more often than every 15 minutes',
    );
    expect(() => checkedCron('0,5 * * * *', at('2026-12-02T05:03:00Z'))).toThrow(
      'runs more often than every 15 minutes',
    );
  });

  it('answers the next run of a stored expression without checking it again', () => {
    expect(nextRun('0,5 * * * *', at('2026-12-02T05:58:00Z'))).toEqual(at('2026-12-02T06:00:00Z'));
  });

  it('puts a weekly drill an hour after a backup, or halfway to the next one when they are closer', () => {
    // Wednesday 2026-12-02: daily 03:00 → Thursday 04:00; weekly Sunday 03:00 → Sunday 04:00.
    expect(drillCron(PRESETS.daily, at('2026-12-02T05:00:00Z'))).toBe('0 4 * * 4');
    expect(drillCron(PRESETS.weekly, at('2026-12-02T05:00:00Z'))).toBe('0 4 * * 0');
    expect(drillCron(PRESETS.hourly, at('2026-12-02T05:10:00Z'))).toBe('30 6 * * 3');
    expect(drillCron('*/15 * * * *', at('2026-12-02T23:50:00Z'))).toBe('7 0 * * 4');
  });
});
