import { statfs } from 'node:fs/promises';

/** How full the filesystem holding the platform's data is. */
export interface DiskUsage {
  usedPercent: number;
  bytesFree: number;
  bytesTotal: number;
}

/** Where the disk guard reads the data volume's use from (statfs here; a stand-in in tests). */
export type DiskUsageSource = () => Promise<DiskUsage>;

/**
 * `df`'s figure: used / (used + available to unprivileged users), so the blocks reserved for
 * root count as full, as they are for the databases, which do not run as root.
 */
export function statfsUsage(path: string): DiskUsageSource {
  return async () => {
    const stats = await statfs(path);
    const used = (stats.blocks - stats.bfree) * stats.bsize;
    const available = stats.bavail * stats.bsize;
    const usable = used + available;
    return {
      usedPercent: usable === 0 ? 0 : Math.ceil((used / usable) * 1000) / 10,
      bytesFree: available,
      bytesTotal: stats.blocks * stats.bsize,
    };
  };
}
