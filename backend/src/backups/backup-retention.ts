/** How many backups of one schedule are kept (DESIGN §11; issue 16). */
export interface RetentionPolicy {
  /** The newest N, whatever their age. */
  keepLast: number;
  /** The newest backup of each of the last N days (UTC) that have one. */
  keepDaily: number;
  /** The newest backup of each of the last N ISO weeks that have one. */
  keepWeekly: number;
}

export interface StoredBackup {
  key: string;
  createdAt: Date;
}

/**
 * The backups no rule keeps, as restic and borg count them: a backup kept by any rule stays;
 * a day or week counts only when it holds a backup. At least the newest one always stays.
 */
export function expiredBackups<T extends StoredBackup>(backups: T[], policy: RetentionPolicy): T[] {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const kept = new Set<T>(newestFirst.slice(0, Math.max(policy.keepLast, 1)));
  const keepNewestPer = (period: (date: Date) => string, count: number) => {
    const seen = new Set<string>();
    for (const backup of newestFirst) {
      if (seen.size >= count) break;
      const label = period(backup.createdAt);
      if (seen.has(label)) continue;
      seen.add(label);
      kept.add(backup);
    }
  };
  keepNewestPer((date) => date.toISOString().slice(0, 10), policy.keepDaily);
  keepNewestPer(isoWeek, policy.keepWeekly);
  return newestFirst.filter((backup) => !kept.has(backup));
}

/** `2026-W49`: the ISO 8601 week (Monday first; week 1 holds the year's first Thursday). */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
