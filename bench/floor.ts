/**
 * The floor: what the same bytes cost on a raw ioredis round trip, with no library code in between. A PING is one
 * round trip carrying nothing; SET and GET of n bytes carry the same payload an operation moves. An operation that
 * needs one round trip and little client CPU lands close to its floor; the ratio says how close.
 */
import { randomBytes } from "node:crypto";
import type { RedisClient } from "../src/client.js";
import type { BenchContext } from "./context.js";
import type { Column } from "./results.js";
import { summarize } from "./stats.js";
import { timeEach } from "./timing.js";

export interface FloorOps {
  readonly bytes: number;
  ping(): Promise<unknown>;
  set(): Promise<unknown>;
  get(): Promise<unknown>;
}

/** Raw ops on one key holding `bytes` random bytes (random so nothing along the way can shrink them). */
export async function floorOps(client: RedisClient, key: string, bytes: number): Promise<FloorOps> {
  const value = randomBytes(bytes);
  await client.set(key, value);
  return {
    bytes,
    ping: () => client.ping(),
    set: () => client.set(key, value),
    get: () => client.getBuffer(key),
  };
}

const COLUMNS: readonly Column[] = [
  { key: "op", label: "Raw ioredis call", kind: "text" },
  { key: "bytes", label: "Bytes", kind: "bytes" },
  { key: "n", label: "Samples", kind: "int" },
  { key: "p50", label: "p50 (ms)", kind: "ms" },
  { key: "p99", label: "p99 (ms)", kind: "ms" },
];

/** The floor table: PING and SET/GET at each payload size the other sections move. */
export async function floorSection(ctx: BenchContext, sizes: readonly { label: string; bytes: number }[]) {
  const table = ctx.recorder.table("floor", "Floor: raw ioredis round trips on the same connection", COLUMNS);
  const iterations = ctx.iterations(2000);
  const maxMs = ctx.durationMs(5000);
  const key = `${ctx.keyPrefix("floor")}:value`;
  const ping = await floorOps(ctx.client, key, 1);
  ctx.progress.step(`PING, ${iterations} samples`);
  const pingSummary = summarize(await timeEach(ping.ping, { iterations, maxMs }));
  table.rows.push({ op: "PING", bytes: 0, n: pingSummary.n, p50: pingSummary.p50Ms, p99: pingSummary.p99Ms });
  ctx.recorder.metric("floor.ping.p50Ms", pingSummary.p50Ms);
  const seen = new Set<number>();
  for (const { label, bytes } of sizes) {
    if (seen.has(bytes)) continue;
    seen.add(bytes);
    const ops = await floorOps(ctx.client, key, bytes);
    ctx.progress.step(`SET/GET ${bytes} bytes (${label}), ${iterations} samples each`);
    const set = summarize(await timeEach(ops.set, { iterations, maxMs }));
    const get = summarize(await timeEach(ops.get, { iterations, maxMs }));
    table.rows.push({ op: `SET (${label})`, bytes, n: set.n, p50: set.p50Ms, p99: set.p99Ms });
    table.rows.push({ op: `GET (${label})`, bytes, n: get.n, p50: get.p50Ms, p99: get.p99Ms });
  }
  await ctx.client.unlink(key);
  table.notes.push(
    "Every ratio elsewhere is taken against a floor call interleaved with the measured call (same bytes, same " +
      "connection), so noise from other work on the machine hits both; this table is the floor on its own.",
  );
}
