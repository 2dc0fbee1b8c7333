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

/** A schedule repeats at least weekly, so 8 days of runs show its shortest gap. */
const CHECKED_SPAN_MS = 8 * 24 * 60 * 60 * 1000;

/**
 * Checks a five-field cron expression (UTC) and answers its next run; a 400 naming `cron`
 * otherwise (cron-parser's own message). The gap between runs is checked over 8 days of runs, not
 * only the next two: `* 3 * * *` runs 60 times in a row once a day.
 */
export function checkedCron(expression: string, from = new Date()): { next: Date } {
  const invalid = (problem: string) =>
    new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_CRON', `cron: ${problem}`, [
      { field: 'cron', problems: [problem] },
    ]);
  if (expression.trim().split(/\s+/).length !== 5) {
    throw invalid('must have five fields: minute hour day-of-month month day-of-week (UTC)');
  }
  let runs: Date[];
  try {
    runs = runsWithin(expression, from, CHECKED_SPAN_MS);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]!.getTime() - runs[i - 1]!.getTime() < MIN_INTERVAL_MS) {
      throw invalid('runs more often than every 15 minutes');
    }
  }
  return { next: runs[0]! };
}

/** The next run of an expression already checked when its schedule was stored. */
export function nextRun(expression: string, from = new Date()): Date {
  return CronExpressionParser.parse(expression, { currentDate: from, tz: 'UTC' }).next().toDate();
}

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The weekly cron of a schedule's restore drill: the week day and time one hour after the first of
 * its backups after `from` (half the gap to the following backup when they come closer, so the
 * drill falls between two backups and finds the platform free). Derived from a fixed `from` (the
 * schedule's creation), every process arms the same time.
 */
export function drillCron(backupCron: string, from: Date): string {
  const parsed = CronExpressionParser.parse(backupCron, { currentDate: from, tz: 'UTC' });
  const backup = parsed.next().toDate().getTime();
  const gapMs = parsed.next().toDate().getTime() - backup;
  const at = new Date(backup + Math.min(HOUR_MS, Math.floor(gapMs / 2 / MINUTE_MS) * MINUTE_MS));
  return `${at.getUTCMinutes()} ${at.getUTCHours()} * * ${at.getUTCDay()}`;
}

/** The runs within `spanMs` after `from` (at least one), stopping early once two come too close. */
function runsWithin(expression: string, from: Date, spanMs: number): Date[] {
  const parsed = CronExpressionParser.parse(expression, { currentDate: from, tz: 'UTC' });
  const runs = [parsed.next().toDate()];
  const end = from.getTime() + spanMs;
  while (runs.at(-1)!.getTime() < end) {
    const run = parsed.next().toDate();
    runs.push(run);
    if (run.getTime() - runs.at(-2)!.getTime() < MIN_INTERVAL_MS) break;
  }
  return runs;
}
