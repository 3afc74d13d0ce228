/**
 * guarded() around a node that does nothing, so what is timed is the lock itself: acquire (redis-semaphore Mutex),
 * fencing token, release. Interleaved with the raw minimum a lock needs, SET NX PX then DEL (two round trips).
 */
import { randomUUID } from "node:crypto";
import { guarded } from "../src/index.js";
import { countCommands, measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { ratio } from "./stats.js";

export async function guardSection(ctx: BenchContext): Promise<void> {
  const tables = vsFloorTables(ctx, "guard", "guarded() against a raw lock");
  const table = tables.cost;
  const prefix = ctx.keyPrefix("guard");
  const node = guarded(async () => ({}), { client: ctx.client, key: "order:bench", keyPrefix: prefix });
  const config = { configurable: { thread_id: "bench" } };
  const rawKey = `${prefix}:raw-lock`;
  const rawLock = async () => {
    const token = randomUUID();
    await ctx.client.set(rawKey, token, "PX", 10_000, "NX");
    await ctx.client.del(rawKey);
  };
  const { subject, floor } = await measureVsFloor(
    ctx,
    tables,
    {
      op: "guarded node (no-op): acquire + fence + release",
      bytes: null,
      floor: "SET NX PX + DEL",
      metric: "guard.node",
      run: () => node({}, config),
      runFloor: rawLock,
    },
    ctx.iterations(2000),
  );
  // guarded() awaits each command before sending the next, so commands sent per call are its round trips.
  const commands = await countCommands(ctx.client, () => node({}, config));
  const rawCommands = await countCommands(ctx.client, rawLock);
  const timeInRawRoundTrips = (rawCommands.sent * subject.p50Ms) / floor.p50Ms;
  ctx.recorder.metric("guard.roundTrips", commands.sent);
  ctx.recorder.metric("guard.timeInRawRoundTrips", timeInRawRoundTrips);
  table.notes.push(
    `Round trips: guarded() sends ${commands.sent.toFixed(2)} commands per call, one after another (acquire, ` +
      `fencing token, release); the raw lock sends ${rawCommands.sent.toFixed(2)}.`,
    `In time, guarded() costs as much as ${timeInRawRoundTrips.toFixed(2)} raw-lock round trips at p50 ` +
      `(${ratio(subject.p50Ms, floor.p50Ms).toFixed(2)}x the raw lock's ${rawCommands.sent.toFixed(0)}): the ` +
      "difference is client-side work per call (lease, abort signal, events, three commands instead of two) and the scripts.",
  );
}
