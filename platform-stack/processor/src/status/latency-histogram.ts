/**
 * Latency percentiles over the whole run in constant memory: buckets grow by 5 %, so a
 * percentile is accurate to within 5 % (reported as the bucket's upper bound).
 */
export class LatencyHistogram {
  private static readonly GROWTH = 1.05;
  private static readonly BUCKETS = 500; // 1.05^500 ms is far beyond any useful latency
  private readonly counts = new Float64Array(LatencyHistogram.BUCKETS);
  private total = 0;

  record(milliseconds: number, times = 1): void {
    const value = Math.max(milliseconds, 0);
    const index = Math.min(
      Math.ceil(Math.log(value + 1) / Math.log(LatencyHistogram.GROWTH)),
      LatencyHistogram.BUCKETS - 1,
    );
    this.counts[index] += times;
    this.total += times;
  }

  get count(): number {
    return this.total;
  }

  /** The p-th percentile (0..100) in milliseconds, or null before the first sample. */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = (p / 100) * this.total;
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index];
      if (seen >= rank && this.counts[index] > 0) {
        return Math.round((LatencyHistogram.GROWTH ** index - 1) * 10) / 10;
      }
    }
    return null;
  }
}
