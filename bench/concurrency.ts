/**
 * Load drivers for the concurrency sweep. `closedLoop` runs N threads that each issue their next operation as soon
 * as the previous one returns (the most a process can push); `openLoop` has N threads issue operations on a fixed
 * schedule adding up to a given rate (a fleet of agents checkpointing at their own pace), which is the regime in
 * which a latency target means something: with N operations always in flight, latency is N / throughput whatever
 * the store (Little's law).
 */
import { type Summary, summarize } from "./stats.js";
import { nowMs, sleep } from "./timing.js";

/** One operation of thread `thread` (0-based); `seq` counts that thread's operations. */
export type ThreadOp = (thread: number, seq: number) => Promise<unknown>;

export interface LoadResult {
  readonly threads: number;
  readonly ops: number;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
  readonly latency: Summary;
  /** Open loop only: the rate asked for, and how late operations started against their schedule (p99). */
  readonly offeredPerSec?: number;
  readonly startLagP99Ms?: number;
}

/** Stops at `durationMs` or after `maxOps` operations started, whichever comes first. */
export async function closedLoop(
  threads: number,
  durationMs: number,
  op: ThreadOp,
  maxOps = Number.POSITIVE_INFINITY,
): Promise<LoadResult> {
  const samples: number[] = [];
  let started = 0;
  const start = nowMs();
  const deadline = start + durationMs;
  const worker = async (thread: number) => {
    for (let seq = 0; ; seq++) {
      const t0 = nowMs();
      if (t0 >= deadline || started >= maxOps) return;
      started++;
      await op(thread, seq);
      samples.push(nowMs() - t0);
    }
  };
  await Promise.all(Array.from({ length: threads }, (_, thread) => worker(thread)));
  const elapsedMs = nowMs() - start;
  return {
    threads,
    ops: samples.length,
    elapsedMs,
    opsPerSec: (samples.length / elapsedMs) * 1000,
    latency: summarize(samples),
  };
}

export async function openLoop(
  threads: number,
  ratePerSec: number,
  durationMs: number,
  op: ThreadOp,
): Promise<LoadResult> {
  const samples: number[] = [];
  const lags: number[] = [];
  const periodMs = (threads * 1000) / ratePerSec;
  const start = nowMs() + 20;
  const deadline = start + durationMs;
  const worker = async (thread: number) => {
    const offsetMs = (thread * 1000) / ratePerSec;
    for (let seq = 0; ; seq++) {
      const scheduled = start + offsetMs + seq * periodMs;
      if (scheduled >= deadline) return;
      const wait = scheduled - nowMs();
      if (wait > 0) await sleep(wait);
      const t0 = nowMs();
      lags.push(Math.max(0, t0 - scheduled));
      await op(thread, seq);
      samples.push(nowMs() - t0);
    }
  };
  await Promise.all(Array.from({ length: threads }, (_, thread) => worker(thread)));
  const elapsedMs = nowMs() - start;
  return {
    threads,
    ops: samples.length,
    elapsedMs,
    opsPerSec: (samples.length / elapsedMs) * 1000,
    latency: summarize(samples),
    offeredPerSec: ratePerSec,
    startLagP99Ms: summarize(lags).p99Ms,
  };
}
