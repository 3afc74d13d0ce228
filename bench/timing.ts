/**
 * Measurement loops. Each sample is one awaited call timed with the monotonic high-resolution clock.
 * `timeInterleaved` alternates the subject and its floor call by call (and `timeRoundRobin` several subjects), so a
 * noisy neighbour (this machine runs other work too) slows all sides alike and the ratios stay meaningful.
 */

export interface LoopOptions {
  /** Samples to keep. */
  readonly iterations: number;
  /** Untimed calls (rounds) first: JIT, script cache, connection. Default: see scaleDefaultWarmup. */
  readonly warmup?: number;
  /** Stop warming up after this long, whatever `warmup` says. */
  readonly warmupMs?: number;
  /** Stop early after this long (keeping what was measured) so a slow machine still finishes the bench in time. */
  readonly maxMs?: number;
}

/**
 * Untimed rounds before a loop's samples unless it says otherwise, bounded in time. V8 compiles a code path as it
 * runs it: in one process, a put through the saver cost 327, 165, 99 and 93 us of Node CPU over its first four rounds
 * of 1,500 calls here, so samples taken within the first few thousand calls measure the compiler as much as the call.
 * The time bound keeps slow operations (a search that reads 10,000 items) to a few seconds of warm-up.
 */
const WARMUP_ROUNDS = 4_000;
const WARMUP_MS = 5_000;
const defaultWarmup = { rounds: WARMUP_ROUNDS, ms: WARMUP_MS };

/** Scales the default warm-up with BENCH_SCALE (at least 50 rounds and 200 ms). */
export function scaleDefaultWarmup(scale: number): void {
  defaultWarmup.rounds = Math.max(50, Math.round(WARMUP_ROUNDS * scale));
  defaultWarmup.ms = Math.max(200, Math.round(WARMUP_MS * scale));
}

/** Calls every function once per round, untimed, as `options` asks; returns the rounds made. */
async function warmUp(fns: readonly ((i: number) => Promise<unknown>)[], options: LoopOptions): Promise<number> {
  const rounds = options.warmup ?? defaultWarmup.rounds;
  const deadline = nowMs() + (options.warmupMs ?? defaultWarmup.ms);
  for (let i = 0; i < rounds; i++) {
    for (const fn of fns) await fn(i);
    if (nowMs() > deadline) return i + 1;
  }
  return rounds;
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timeEach(fn: (i: number) => Promise<unknown>, options: LoopOptions): Promise<number[]> {
  const warmup = await warmUp([fn], options);
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
  const warmup = await warmUp(fns, options);
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
