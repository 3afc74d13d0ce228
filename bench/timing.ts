/**
 * Measurement loops. Each sample is one awaited call timed with the monotonic high-resolution clock.
 * `timeInterleaved` alternates the subject and its floor call by call, so a noisy neighbour (this machine runs other
 * work too) slows both sides alike and the ratio stays meaningful.
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
  const warmup = options.warmup ?? Math.min(50, Math.ceil(options.iterations / 10));
  for (let i = 0; i < warmup; i++) {
    await subject(i);
    await floor(i);
  }
  const result: Paired = { subject: [], floor: [] };
  const deadline = nowMs() + (options.maxMs ?? Number.POSITIVE_INFINITY);
  for (let i = 0; i < options.iterations; i++) {
    // Alternate which side goes first so neither always runs on a warmer socket.
    const subjectFirst = i % 2 === 0;
    const a = subjectFirst ? subject : floor;
    const b = subjectFirst ? floor : subject;
    const t0 = nowMs();
    await a(warmup + i);
    const t1 = nowMs();
    await b(warmup + i);
    const t2 = nowMs();
    result.subject.push(subjectFirst ? t1 - t0 : t2 - t1);
    result.floor.push(subjectFirst ? t2 - t1 : t1 - t0);
    if (t2 > deadline && result.subject.length >= 20) break;
  }
  return result;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
