/**
 * The page's time axis. Agent steps come in bursts (milliseconds apart) separated by long waits, so a linear axis
 * would pile each burst into one dot. Every event time gets its own position instead: consecutive events are at
 * least MIN_GAP_PX apart, and a gap grows with the time between them up to MAX_GAP_PX (longer waits are marked as
 * compressed). Positions keep time order, so "left of" always means "earlier".
 */
export const MIN_GAP_PX = 14;
export const MAX_GAP_PX = 140;

export interface TimeAxis {
  readonly width: number;
  x(timeMs: number): number;
  /** Gaps drawn shorter than their real length, as [x from, x to, real ms]. */
  readonly breaks: readonly [number, number, number][];
  /** A few labelled ticks: [x, time]. */
  readonly ticks: readonly [number, number][];
}

export function timeAxis(times: readonly number[], targetWidth: number): TimeAxis {
  const sorted = [...new Set(times.filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  if (sorted.length === 0) return { width: targetWidth, x: () => 0, breaks: [], ticks: [] };
  const first = sorted[0] as number;
  const span = (sorted.at(-1) as number) - first;
  // Scale so the whole span would fill the target width, then bound each gap.
  const pxPerMs = span > 0 ? targetWidth / span : 0;
  const positions = [0];
  const breaks: [number, number, number][] = [];
  for (let i = 1; i < sorted.length; i++) {
    const gapMs = (sorted[i] as number) - (sorted[i - 1] as number);
    const wanted = gapMs * pxPerMs;
    const gapPx = Math.min(MAX_GAP_PX, Math.max(MIN_GAP_PX, wanted));
    const x = (positions[i - 1] as number) + gapPx;
    if (wanted > MAX_GAP_PX) breaks.push([positions[i - 1] as number, x, gapMs]);
    positions.push(x);
  }
  const x = (timeMs: number): number => {
    if (timeMs <= first) return 0;
    let lo = 0;
    let hi = sorted.length - 1;
    if (timeMs >= (sorted[hi] as number)) return positions[hi] as number;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as number) <= timeMs) lo = mid;
      else hi = mid;
    }
    const t0 = sorted[lo] as number;
    const t1 = sorted[hi] as number;
    const x0 = positions[lo] as number;
    const x1 = positions[hi] as number;
    return x0 + ((timeMs - t0) / (t1 - t0)) * (x1 - x0);
  };
  const width = Math.max(positions.at(-1) as number, 1);
  const ticks: [number, number][] = [];
  let lastTickX = Number.NEGATIVE_INFINITY;
  sorted.forEach((t, i) => {
    const px = positions[i] as number;
    if (px - lastTickX >= 150) {
      ticks.push([px, t]);
      lastTickX = px;
    }
  });
  return { width, x, breaks, ticks };
}
