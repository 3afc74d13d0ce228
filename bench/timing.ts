/**
 * Measurement loops. Each sample is one awaited call timed with the monotonic high-resolution clock.
 * `timeInterleaved` alternates the subject and its floor call by call (and `timeRoundRobin` several subjects), so a
 * noisy neighbour (this machine runs other work too) slows all sides alike and the ratios stay meaningful.
 */

export interface LoopOptions {
  /** Samples to keep. */
  readonly iterations: number;
  /** Untimed calls first (JIT, script cache, connection warm-up). */
  readonly warmup?: number;
  /** Stop early after this long (keeping what was measured) so a slow machine still finishes the bench in time. */
  readonly maxMs?: number;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timeEach(fn: (i: number) => Promise<unknown>, options: LoopOptions): Promise<number[]> {
  const warmup = options.warmup ?? Math.min(50, Math.ceil(options.iterations / 10));
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  const deadline = nowMs() + (options.maxMs ?? Number.POSITIVE_INFINITY);
  for (let i = 0; i < options.iterations; i++) {
    const start = nowMs();
    await fn(warmup + i);
    const end = nowMs();
    samples.push(end - start);
    if (end > deadline && samples.length >= 20) break;
  }
  return samples;
}

export interface Paired {
  readonly subject: number[];
  readonly floor: number[];
}

export async function timeInterleaved(
  subject: (i: number) => Promise<unknown>,
  floor: (i: number) => Promise<unknown>,
  options: LoopOptions,
): Promise<Paired> {
  const [subjectSamples = [], floorSamples = []] = await timeRoundRobin([subject, floor], options);
  return { subject: subjectSamples, floor: floorSamples };
}

/**
 * Calls each function once per round, rotating which goes first so none always runs on a warmer socket, and
 * returns one sample list per function.
 */
export async function timeRoundRobin(
  fns: readonly ((i: number) => Promise<unknown>)[],
  options: LoopOptions,
): Promise<number[][]> {
  const warmup = options.warmup ?? Math.min(50, Math.ceil(options.iterations / 10));
  for (let i = 0; i < warmup; i++) {
    for (const fn of fns) await fn(i);
  }
  const samples = fns.map(() => [] as number[]);
  const deadline = nowMs() + (options.maxMs ?? Number.POSITIVE_INFINITY);
  for (let i = 0; i < options.iterations; i++) {
    let end = 0;
    for (let k = 0; k < fns.length; k++) {
      const index = (i + k) % fns.length;
      const fn = fns[index] as (i: number) => Promise<unknown>;
      const start = nowMs();
      await fn(warmup + i);
      end = nowMs();
      samples[index]?.push(end - start);
    }
    if (end > deadline && i + 1 >= 20) break;
  }
  return samples;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
