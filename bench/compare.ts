/**
 * One operation against its floor: latency p50/p99 of both (interleaved), their ratio, and how many Redis commands
 * the operation sends per call (from INFO commandstats, so it is exact whatever the noise: one command per call is
 * one round trip unless the operation pipelines).
 */
import type { RedisClient } from "../src/client.js";
import type { BenchContext } from "./context.js";
import type { Column, Table } from "./results.js";
import { floorRatio, type Summary, summarize } from "./stats.js";
import { timeInterleaved } from "./timing.js";

export const VS_FLOOR_COLUMNS: readonly Column[] = [
  { key: "op", label: "Operation", kind: "text" },
  { key: "bytes", label: "Bytes", kind: "bytes" },
  { key: "commands", label: "Redis cmds/call", kind: "decimal" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
  { key: "floor", label: "Floor", kind: "text" },
  { key: "floorP50", label: "Floor p50 (ms)", kind: "ms" },
  { key: "floorP99", label: "Floor p99 (ms)", kind: "ms" },
  { key: "ratioP50", label: "p50 / floor", kind: "ratio" },
  { key: "ratioP99", label: "p99 / floor", kind: "ratio" },
];

async function commandCalls(client: RedisClient): Promise<number> {
  const info = await client.info("commandstats");
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

/** Redis commands the server executes per call of `fn` (averaged over `calls` sequential calls). */
export async function commandsPerCall(client: RedisClient, fn: () => Promise<unknown>, calls = 50): Promise<number> {
  const before = await commandCalls(client);
  for (let i = 0; i < calls; i++) await fn();
  const after = await commandCalls(client);
  // The second INFO is counted by the time it replies; the first is not.
  return (after - before - 1) / calls;
}

export interface VsFloor {
  readonly op: string;
  readonly bytes: number | null;
  readonly floor: string;
  /** Metric stem, e.g. "saver.put": records `<stem>.floorRatioP50`, `.p50Ms`, `.p99Ms`. */
  readonly metric: string;
  run(i: number): Promise<unknown>;
  runFloor(i: number): Promise<unknown>;
  /** Skip the command count (for operations whose repeated calls would change what is measured). */
  readonly countCommands?: boolean;
}

export async function measureVsFloor(
  ctx: BenchContext,
  table: Table,
  spec: VsFloor,
  iterations: number,
): Promise<{ subject: Summary; floor: Summary }> {
  ctx.progress.step(`${spec.op}: ${iterations} calls interleaved with ${spec.floor}`);
  const paired = await timeInterleaved(spec.run, spec.runFloor, { iterations, maxMs: ctx.durationMs(20_000) });
  const subject = summarize(paired.subject);
  const floor = summarize(paired.floor);
  const ratios = floorRatio(subject, floor);
  let seq = 1_000_000;
  const commands = spec.countCommands === false ? null : await commandsPerCall(ctx.client, () => spec.run(seq++));
  table.rows.push({
    op: spec.op,
    bytes: spec.bytes,
    commands,
    p50: subject.p50Ms,
    p99: subject.p99Ms,
    floor: spec.floor,
    floorP50: floor.p50Ms,
    floorP99: floor.p99Ms,
    ratioP50: ratios.p50,
    ratioP99: ratios.p99,
  });
  ctx.recorder.metric(`${spec.metric}.p50Ms`, subject.p50Ms);
  ctx.recorder.metric(`${spec.metric}.p99Ms`, subject.p99Ms);
  ctx.recorder.metric(`${spec.metric}.floorRatioP50`, ratios.p50);
  ctx.recorder.metric(`${spec.metric}.floorRatioP99`, ratios.p99);
  if (commands !== null) ctx.recorder.metric(`${spec.metric}.commandsPerCall`, commands);
  return { subject, floor };
}
