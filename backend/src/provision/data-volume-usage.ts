/** How full a platform's data volume is, as `df` on the host reports it. */
export interface DataVolumeUsage {
  /** used / (used + available), as `df` counts it (root's reserved blocks count as used), one decimal. */
  usedPercent: number;
  bytesFree: number;
  bytesTotal: number;
}

/**
 * The command run over the health check's SSH connection: byte figures of the filesystem that
 * holds `path` (a path from the platform's layout, never user text; it is one argument).
 */
export function dataVolumeUsageCommand(path: string): string[] {
  return ['sudo', '-n', 'df', '--block-size=1', '--output=size,used,avail', '--', path];
}

/**
 * Parses that command's output: a header line, then `size used avail`. Null when it is not that
 * shape (an old `df` without `--output`, a path that vanished).
 */
export function parseDataVolumeUsage(output: string): DataVolumeUsage | null {
  const lines = output.trim().split('\n');
  if (lines.length !== 2) return null;
  const figures = lines[1].trim().split(/\s+/);
  if (figures.length !== 3 || !figures.every((figure) => /^\d+$/.test(figure))) return null;
  const [bytesTotal, used, bytesFree] = figures.map(Number);
  const usable = used + bytesFree;
  return {
    usedPercent: usable === 0 ? 0 : Math.ceil((used / usable) * 1000) / 10,
    bytesFree,
    bytesTotal,
  };
}
