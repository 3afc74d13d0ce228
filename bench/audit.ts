/**
 * What the audit outbox costs a write: the same operation with `audit` on against the same operation without it,
 * interleaved call by call (so the "floor" column here is the un-audited call, not a raw command), and the bytes
 * one event occupies in its outbox stream until the sink delivers it.
 */
import { randomUUID } from "node:crypto";
import { RedisSaver, RedisStore } from "../src/index.js";
import { auditRegistryKey } from "../src/keys.js";
import { measureVsFloor, vsFloorTables } from "./compare.js";
import type { BenchContext } from "./context.js";
import { CheckpointSequence, jsonBytes, putPayloadBytes, storeItem, typicalStep } from "./payloads.js";
import { putStep, versionsOf } from "./saver.js";

export async function auditSection(ctx: BenchContext): Promise<void> {
  const tables = vsFloorTables(ctx, "audit", "Audit outbox (audit on against audit off)");
  const iterations = ctx.iterations(2000);
  const plainPrefix = ctx.keyPrefix("audit-off");
  const auditedPrefix = ctx.keyPrefix("audit-on");
  const plainStore = new RedisStore({ client: ctx.client, keyPrefix: plainPrefix });
  const auditedStore = new RedisStore({ client: ctx.client, keyPrefix: auditedPrefix, audit: { agentId: "bench" } });
  const team = ["bench", "team"];
  const itemBytes = jsonBytes(storeItem(7));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisStore put (overwrite), audit on",
      bytes: itemBytes,
      floor: "the same put, audit off",
      metric: "audit.store.put",
      run: (i) => auditedStore.put(team, `item-${i % 100}`, storeItem(i)),
      runFloor: (i) => plainStore.put(team, `item-${i % 100}`, storeItem(i)),
    },
    iterations,
  );

  const plainSaver = new RedisSaver({ client: ctx.client, keyPrefix: plainPrefix });
  const auditedSaver = new RedisSaver({ client: ctx.client, keyPrefix: auditedPrefix, audit: { agentId: "bench" } });
  const plainThread = `put-${randomUUID()}`;
  const auditedThread = `put-${randomUUID()}`;
  const plainSequence = new CheckpointSequence(versionsOf(plainSaver));
  const auditedSequence = new CheckpointSequence(versionsOf(auditedSaver));
  const probe = auditedSequence.next(typicalStep(0));
  await putStep(auditedSaver, auditedThread, probe);
  await putStep(plainSaver, plainThread, plainSequence.next(typicalStep(0)));
  await measureVsFloor(
    ctx,
    tables,
    {
      op: "RedisSaver put (typical step), audit on",
      bytes: await putPayloadBytes(probe),
      floor: "the same put, audit off",
      metric: "audit.saver.put",
      run: (i) => putStep(auditedSaver, auditedThread, auditedSequence.next(typicalStep(i + 1))),
      runFloor: (i) => putStep(plainSaver, plainThread, plainSequence.next(typicalStep(i + 1))),
    },
    iterations,
  );

  // Memory: the outbox holds every event until a sink delivers it (then XDEL); bytes per event waiting.
  const streams = await ctx.client.smembers(auditRegistryKey(auditedPrefix));
  let events = 0;
  let bytes = 0;
  for (const stream of streams) {
    events += await ctx.client.xlen(stream);
    bytes += Number((await ctx.client.memory("USAGE", stream, "SAMPLES", 0)) ?? 0);
  }
  const perEvent = events > 0 ? bytes / events : 0;
  ctx.recorder.metric("audit.streamBytesPerEvent", perEvent);
  tables.latency.notes.push(
    'Here the "floor" is the same call without audit: p50 / floor is what the outbox adds (one XADD inside the ' +
      "write's script, plus the event context the client builds).",
    `Undelivered events take ${Math.round(perEvent)} bytes each in their outbox stream ` +
      `(${events.toLocaleString("en-US")} events, MEMORY USAGE); the sink deletes each one once it is in PostgreSQL.`,
  );
}
