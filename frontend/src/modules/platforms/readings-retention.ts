/** The bounds the API accepts (platform-stack's READINGS_RETENTION_DAYS). */
export const RETENTION_DAYS = { min: 1, max: 3650 } as const;

/** "Keep readings: 30 days", "Keep readings: 1 day", "Keep readings: for ever". */
export function retentionText(days: number | null | undefined): string {
  if (days === null || days === undefined) return 'Keep readings: for ever';
  return `Keep readings: ${days} ${days === 1 ? 'day' : 'days'}`;
}

/**
 * The edit field's text as the API's `days`: empty keeps readings for ever; otherwise a whole
 * number of days within the bounds, or the reason it is not one.
 */
export function parseRetention(text: string): { days: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { days: null };
  const { min, max } = RETENTION_DAYS;
  if (!/^\d+$/.test(trimmed))
    return { error: `Enter whole days (${min} to ${max}), or leave it empty to keep all` };
  const days = Number(trimmed);
  if (days < min || days > max) return { error: `Between ${min} and ${max} days` };
  return { days };
}

/** The data volume's use in words: "62.5 % used, 3.2 GB free". */
export function diskUseText(disk: { usedPercent: number; bytesFree: number }): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = disk.bytesFree;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const free = unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  return `${disk.usedPercent} % used, ${free} free`;
}

/**
 * When a change keeps readings for less time than before (or no longer for ever), the readings it
 * deletes, in words ("Readings from before 2 Nov 2026 will be deleted…"); '' when it deletes
 * nothing more than before.
 */
export function retentionCutoffWarning(
  before: number | null | undefined,
  after: number | null,
  now: Date = new Date(),
): string {
  if (after === null) return '';
  if (before !== null && before !== undefined && after >= before) return '';
  const cutoff = new Date(now.getTime() - after * 24 * 60 * 60 * 1000);
  const date = cutoff.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
  return `Readings from before ${date} will be deleted for good, by the database itself, soon after you confirm. Download a dump or make a backup first if you may need them.`;
}
