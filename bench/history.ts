/**
 * The history sweep: getTuple and list(limit 10) on threads of 10, 1,000 and 100,000 checkpoints. A saver that
 * indexes checkpoints (a sorted set per thread) reads the newest ones at the same cost however long the history;
 * one that scans grows with it. The three threads are read round-robin so noise hits each alike.
 *
 * Long threads are built fast through the public API: puts are issued with up to 500 in flight on one client
 * (ioredis sends them back to back on the connection, so the server sees a pipeline) instead of one at a time.
 */
import { randomUUID } from "node:crypto";
import type { BaseCheckpointSaver, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import type { BenchContext } from "./context.js";
import { CheckpointSequence, type PutArgs, typicalStep } from "./payloads.js";
import type { Column } from "./results.js";
import { putStep, threadConfig, versionsOf } from "./saver.js";
import { ratio, summarize } from "./stats.js";
import { nowMs, timeRoundRobin } from "./timing.js";

export const HISTORY_SIZES = [10, 1000, 100_000] as const;
const IN_FLIGHT = 500;

const COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "checkpoints", label: "Checkpoints in thread", kind: "int" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
  { key: "ratio", label: "p50 vs 10 checkpoints", kind: "ratio" },
];

/** Puts `count` checkpoints on one thread with up to IN_FLIGHT puts outstanding; returns the checkpoint ids. */
export async function buildThread(
  saver: BaseCheckpointSaver,
  threadId: string,
  count: number,
): Promise<{ ids: string[]; ms: number }> {
  const sequence = new CheckpointSequence(versionsOf(saver));
  const steps: PutArgs[] = [];
  for (let step = 0; step < count; step++) steps.push(sequence.next(typicalStep(step)));
  const start = nowMs();
  let next = 0;
  const lane = async () => {
    while (next < steps.length) {
      const args = steps[next++] as PutArgs;
      await putStep(saver, threadId, args);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, lane));
  return { ids: steps.map((s) => s.checkpoint.id), ms: nowMs() - start };
}

async function listTen(saver: BaseCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples: CheckpointTuple[] = [];
  for await (const t of saver.list(threadConfig(threadId), { limit: 10 })) tuples.push(t);
  return tuples;
}

export async function historySection(ctx: BenchContext, name: string, saver: BaseCheckpointSaver): Promise<void> {
  const table = ctx.recorder.table("history", `History sweep: ${name} reads as a thread grows`, COLUMNS);
  const threads: { size: number; threadId: string; ids: string[] }[] = [];
  for (const size of HISTORY_SIZES) {
    const threadId = `history-${size}-${randomUUID()}`;
    ctx.progress.step(`building a thread of ${size.toLocaleString("en-US")} checkpoints`);
    const built = await buildThread(saver, threadId, size);
    const rate = (size / built.ms) * 1000;
    ctx.progress.step(
      `  built in ${(built.ms / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString("en-US")} puts/s)`,
    );
    if (size === HISTORY_SIZES[HISTORY_SIZES.length - 1]) {
      table.notes.push(
        `The ${size.toLocaleString("en-US")}-checkpoint thread was built through ${name}.put with ${IN_FLIGHT} puts ` +
          `in flight on one connection: ${(built.ms / 1000).toFixed(1)} s, ${Math.round(rate).toLocaleString("en-US")} puts/s.`,
      );
    }
    const newest = await saver.getTuple(threadConfig(threadId));
    const expected = built.ids[built.ids.length - 1];
    if (newest?.checkpoint.id !== expected) {
      throw new Error(`${name}.getTuple on the ${size}-checkpoint thread did not return its newest checkpoint`);
    }
    const listed = await listTen(saver, threadId);
    if (listed.length !== 10 || listed[0]?.checkpoint.id !== expected) {
      throw new Error(`${name}.list(limit 10) on the ${size}-checkpoint thread did not return the newest 10`);
    }
    threads.push({ size, threadId, ids: built.ids });
  }

  const iterations = ctx.iterations(1000);
  const maxMs = ctx.durationMs(30_000);
  const reads: { op: string; metric: string; read: (t: (typeof threads)[number]) => () => Promise<unknown> }[] = [
    { op: "getTuple (latest)", metric: "getTuple", read: (t) => () => saver.getTuple(threadConfig(t.threadId)) },
    {
      op: "getTuple (oldest, by checkpoint_id)",
      metric: "getTupleOldest",
      read: (t) => () => saver.getTuple(threadConfig(t.threadId, t.ids[0])),
    },
    { op: "list (limit 10)", metric: "list", read: (t) => () => listTen(saver, t.threadId) },
  ];
  for (const { op, metric, read } of reads) {
    ctx.progress.step(`${op}: ${iterations} rounds over the ${threads.length} threads`);
    const samples = await timeRoundRobin(
      threads.map((t) => read(t)),
      { iterations, maxMs },
    );
    const base = summarize(samples[0] ?? []);
    threads.forEach((t, i) => {
      const summary = summarize(samples[i] ?? []);
      const vsFirst = ratio(summary.p50Ms, base.p50Ms);
      table.rows.push({ op, checkpoints: t.size, p50: summary.p50Ms, p99: summary.p99Ms, ratio: vsFirst });
      if (t.size === 100_000) ctx.recorder.metric(`history.${metric}.ratio100k`, vsFirst);
    });
  }

  const biggest = threads[threads.length - 1];
  if (biggest) {
    ctx.progress.step(`deleteThread on the ${biggest.size.toLocaleString("en-US")}-checkpoint thread`);
    const start = nowMs();
    await saver.deleteThread(biggest.threadId);
    const ms = nowMs() - start;
    table.notes.push(`deleteThread on that thread took ${ms.toFixed(0)} ms.`);
    ctx.recorder.metric("history.deleteThread100kMs", ms);
  }
  for (const t of threads.slice(0, -1)) await saver.deleteThread(t.threadId);
  table.notes.push("Each checkpoint is a typical step (about 1 KB of messages and a counter, both changed).");
}
