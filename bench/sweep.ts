/**
 * The concurrency sweep: 1, 100, 1,000 and 5,000 threads checkpointing at once from one process. Each subject (the
 * raw SET floor, RedisSaver put) runs closed-loop at every level (puts/s and latency), then open-loop at the target
 * rate with 5,000 threads (latency when the fleet offers 20,000 puts/s) and, when that saturates it, at half the
 * rate it reached.
 */
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { Redis } from "ioredis";
import { closedLoop, type LoadResult, openLoop, type ThreadOp } from "./concurrency.js";
import type { BenchContext } from "./context.js";
import { type CpuPerOp, chargeCpu } from "./cpu.js";
import { CheckpointSequence, typicalStep } from "./payloads.js";
import type { Column, Table } from "./results.js";
import { putStep, versionsOf } from "./saver.js";

export const SWEEP_THREADS = [1, 100, 1000, 5000] as const;
export const TARGET_THREADS = 5000;
export const TARGET_RATE_PER_SEC = 20_000;

export interface SweepSubject {
  readonly name: string;
  /** Metric name stem for the targets (e.g. "concurrency"); only the subject under test has one. */
  readonly metricStem?: string;
  /** Builds the per-thread operation for `threads` threads (creates their keys, state, clients). */
  prepare(threads: number): Promise<ThreadOp>;
  /** Removes what a level wrote, so levels do not pile up data in Redis. */
  cleanup(): Promise<void>;
}

const COLUMNS: readonly Column[] = [
  { key: "subject", label: "Subject", kind: "text" },
  { key: "threads", label: "Threads", kind: "int" },
  { key: "mode", label: "Load", kind: "text" },
  { key: "ops", label: "Puts", kind: "int" },
  { key: "rate", label: "Puts/s", kind: "rate" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
  { key: "lag", label: "Start lag p99 (ms)", kind: "ms" },
  { key: "clientCpu", label: "Node CPU/put (us)", kind: "decimal" },
  { key: "serverCpu", label: "Redis CPU/put (us)", kind: "decimal" },
];

/** Runs a load phase with both sides' CPU charged to its operations. */
function withCpu(client: Redis, load: () => Promise<LoadResult>): Promise<[LoadResult, CpuPerOp]> {
  return chargeCpu(client, load, (result) => result.ops);
}

function addRow(table: Table, subject: string, mode: string, [result, cpu]: [LoadResult, CpuPerOp]): void {
  table.rows.push({
    subject,
    threads: result.threads,
    mode,
    ops: result.ops,
    rate: result.opsPerSec,
    p50: result.latency.p50Ms,
    p99: result.latency.p99Ms,
    lag: result.startLagP99Ms ?? null,
    clientCpu: cpu.nodeUs,
    serverCpu: cpu.redisUs,
  });
}

export async function concurrencySection(ctx: BenchContext, subjects: readonly SweepSubject[]): Promise<void> {
  const table = ctx.recorder.table("concurrency", "Concurrency sweep: threads checkpointing at once", COLUMNS);
  const levelMs = ctx.durationMs(2500);
  const openMs = ctx.durationMs(4000);
  for (const subject of subjects) {
    let maxRate5000 = 0;
    for (const threads of SWEEP_THREADS) {
      ctx.progress.step(`${subject.name}: ${threads} threads, closed loop, ${(levelMs / 1000).toFixed(1)} s`);
      const op = await subject.prepare(threads);
      const measured = await withCpu(ctx.client, () => closedLoop(threads, levelMs, op, 80_000));
      addRow(table, subject.name, "closed loop", measured);
      const [result, cpu] = measured;
      await subject.cleanup();
      if (threads === TARGET_THREADS) maxRate5000 = result.opsPerSec;
      if (subject.metricStem) {
        ctx.recorder.metric(`${subject.metricStem}.${threads}.putsPerSec`, result.opsPerSec);
        ctx.recorder.metric(`${subject.metricStem}.${threads}.p99Ms`, result.latency.p99Ms);
        ctx.recorder.metric(`${subject.metricStem}.${threads}.clientCpuUsPerPut`, cpu.nodeUs);
        ctx.recorder.metric(`${subject.metricStem}.${threads}.serverCpuUsPerPut`, cpu.redisUs);
      }
    }
    const rates = [TARGET_RATE_PER_SEC];
    // If the process cannot reach the target rate, also measure at half of what it managed with 5,000 threads:
    // latency when the fleet is not saturated.
    const sustainable = Math.floor((maxRate5000 * 0.5) / 100) * 100;
    if (sustainable >= 100 && sustainable < TARGET_RATE_PER_SEC * 0.9) rates.push(sustainable);
    for (const rate of rates) {
      const rateLabel = rate.toLocaleString("en-US");
      ctx.progress.step(`${subject.name}: ${TARGET_THREADS} threads, open loop at ${rateLabel}/s`);
      const op = await subject.prepare(TARGET_THREADS);
      const measured = await withCpu(ctx.client, () => openLoop(TARGET_THREADS, rate, openMs, op));
      addRow(table, subject.name, `${rateLabel}/s offered`, measured);
      const [result] = measured;
      await subject.cleanup();
      if (subject.metricStem && rate === TARGET_RATE_PER_SEC) {
        ctx.recorder.metric(`${subject.metricStem}.${TARGET_THREADS}.p99AtTargetRateMs`, result.latency.p99Ms);
      } else if (subject.metricStem) {
        ctx.recorder.metric(`${subject.metricStem}.${TARGET_THREADS}.halfMaxRate`, rate);
        ctx.recorder.metric(`${subject.metricStem}.${TARGET_THREADS}.p99AtHalfMaxRateMs`, result.latency.p99Ms);
      }
    }
  }
  table.notes.push(
    `Closed loop: every thread issues its next put as soon as the previous returns (${(levelMs / 1000).toFixed(1)} s ` +
      "per level, at most 80,000 puts), so N puts are always in flight and latency is N / throughput (Little's law).",
    `Open loop: ${TARGET_THREADS.toLocaleString("en-US")} threads each put on a fixed schedule adding up to the ` +
      `offered rate for ${(openMs / 1000).toFixed(1)} s; latency is timed from the call, and the start lag says how ` +
      "late calls started against their schedule (the process falling behind). When a subject cannot sustain " +
      `${TARGET_RATE_PER_SEC.toLocaleString("en-US")}/s, it is also run at half the rate it reached with ` +
      `${TARGET_THREADS.toLocaleString("en-US")} threads in closed loop.`,
    "CPU per put: this Node.js process's CPU time (process.cpuUsage) and the Redis server's (INFO cpu) divided by " +
      "the puts; 1,000,000 / CPU per put is what one core of each side can sustain.",
  );
}

/** The sweep subject for a checkpoint saver: each thread appends typical steps to its own thread id. */
export function saverSweepSubject(
  name: string,
  saver: BaseCheckpointSaver,
  options: { metricStem?: string; cleanup: () => Promise<void> },
): SweepSubject {
  let level = 0;
  return {
    name,
    ...(options.metricStem ? { metricStem: options.metricStem } : {}),
    prepare: async (threads) => {
      level++;
      const sequences = Array.from({ length: threads }, () => new CheckpointSequence(versionsOf(saver)));
      const threadIds = sequences.map((_, i) => `sweep-${level}-${i}`);
      return (thread, seq) =>
        putStep(saver, threadIds[thread] as string, (sequences[thread] as CheckpointSequence).next(typicalStep(seq)));
    },
    cleanup: options.cleanup,
  };
}
