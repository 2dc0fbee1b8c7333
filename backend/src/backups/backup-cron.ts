import { HttpStatus } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import { ApiError } from '../common/api-error';
import type { BackupPreset } from './backup-schedule.entity';

export const PRESETS: Record<BackupPreset, string> = {
  hourly: '0 * * * *',
  daily: '0 3 * * *',
  weekly: '0 3 * * 0',
};

/** At most one run per this many minutes: a dump is not a cheap operation on a small VM. */
const MIN_INTERVAL_MS = 15 * 60 * 1000;

/**
 * Checks a five-field cron expression (UTC) and answers its next two runs; a 400 naming `cron`
 * otherwise (cron-parser's own message).
 */
export function checkedCron(expression: string, from = new Date()): { next: Date } {
  const invalid = (problem: string) =>
    new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_CRON', `cron: ${problem}`, [
      { field: 'cron', problems: [problem] },
    ]);
  if (expression.trim().split(/\s+/).length !== 5) {
    throw invalid('must have five fields: minute hour day-of-month month day-of-week (UTC)');
  }
  let next: Date;
  let after: Date;
  try {
    const parsed = CronExpressionParser.parse(expression, { currentDate: from, tz: 'UTC' });
    next = parsed.next().toDate();
    after = parsed.next().toDate();
  } catch (error) {
    throw invalid((error as Error).message);
  }
  if (after.getTime() - next.getTime() < MIN_INTERVAL_MS) {
    throw invalid('runs more often than every 15 minutes');
  }
  return { next };
}
