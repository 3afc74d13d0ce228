/**
 * Latency statistics. Percentiles use the nearest-rank method on the sorted samples, so p99 of 1,000 samples is the
 * 990th smallest: a real observed value, never an interpolation.
 */

export interface Summary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile (0 < p <= 100) of samples sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samplesMs: readonly number[]): Summary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const n = sorted.length;
  const sum = sorted.reduce((acc, v) => acc + v, 0);
  return {
    n,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: n === 0 ? Number.NaN : sum / n,
    minMs: n === 0 ? Number.NaN : (sorted[0] as number),
    maxMs: n === 0 ? Number.NaN : (sorted[n - 1] as number),
  };
}

/** a / b, or NaN when either side is missing or b is zero. */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

/** Subject against floor, as p50 and p99 ratios. */
export interface FloorRatio {
  readonly p50: number;
  readonly p99: number;
}

export function floorRatio(subject: Summary, floor: Summary): FloorRatio {
  return { p50: ratio(subject.p50Ms, floor.p50Ms), p99: ratio(subject.p99Ms, floor.p99Ms) };
}
