/**
 * `npm run bench`: langgraph-redis against the physical floor (raw ioredis round trips carrying the same bytes).
 * See bench/runner.ts for the environment variables and docs/benchmarks.md for how to read the results.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { RedisSaver, RedisStore } from "../src/index.js";
import { auditSection } from "./audit.js";
import { chatMemorySection } from "./chat-memory.js";
import { clusterSection } from "./cluster.js";
import type { BenchContext } from "./context.js";
import { deltaSection } from "./delta.js";
import { floorOps, floorSection } from "./floor.js";
import { graphSection } from "./graph.js";
import { guardSection } from "./guard.js";
import { historySection } from "./history.js";
import { integrationsSection } from "./integrations.js";
import { deleteKeys } from "./keyspace.js";
import { memorySection } from "./memory.js";
import { offlineSection } from "./offline.js";
import {
  CheckpointSequence,
  fullCheckpointBytes,
  putPayloadBytes,
  typicalStep,
  typicalWrites,
  writesBytes,
} from "./payloads.js";
import { peersSection } from "./peers.js";
import { removalSection } from "./removal.js";
import { retentionSection } from "./retention.js";
import { runBench } from "./runner.js";
import { runsSection } from "./runs.js";
import { putStep, saverSection, versionsOf } from "./saver.js";
import { storeSection } from "./store.js";
import { storeSearchSection } from "./store-search.js";
import { concurrencySection, type SweepSubject, saverSweepSubject } from "./sweep.js";

// Payload sizes of a typical step, so the floor table covers the bytes each operation moves.
const sample = new CheckpointSequence();
sample.next(typicalStep(0));
const typical = sample.next(typicalStep(1));
const putBytes = await putPayloadBytes(typical);
const sizes = [
  { label: "put payload", bytes: putBytes },
  { label: "checkpoint read", bytes: await fullCheckpointBytes(typical) },
  { label: "putWrites payload", bytes: await writesBytes(typicalWrites(1)) },
];

function saver(ctx: BenchContext, name: string, client: Redis = ctx.client): RedisSaver {
  return new RedisSaver({ client, keyPrefix: ctx.keyPrefix(name) });
}

/** Raw SET of a put's bytes, one key per thread: the sweep's floor. */
function floorSweepSubject(ctx: BenchContext): SweepSubject {
  const prefix = ctx.keyPrefix("sweep-floor");
  return {
    name: `SET ${putBytes} B (floor)`,
    prepare: async (threads) => {
      const ops = await Promise.all(
        Array.from({ length: threads }, (_, i) => floorOps(ctx.client, `${prefix}:t${i}`, putBytes)),
      );
      return (thread) => (ops[thread] as (typeof ops)[number]).set();
    },
    cleanup: async () => {
      await deleteKeys(ctx.client, `${prefix}:*`);
    },
  };
}

function saverSweep(ctx: BenchContext, id: string, name: string, client: Redis, metricStem?: string): SweepSubject {
  const subject = saver(ctx, `sweep-${id}`, client);
  return saverSweepSubject(name, subject, {
    ...(metricStem ? { metricStem } : {}),
    cleanup: async () => {
      await deleteKeys(ctx.client, `${subject.keyPrefix}|*`);
    },
  });
}

await runBench(
  () => [
    { id: "floor", title: "Floor", run: (ctx) => floorSection(ctx, sizes) },
    { id: "saver", title: "RedisSaver operations", run: (ctx) => saverSection(ctx, "RedisSaver", saver(ctx, "saver")) },
    {
      id: "graph",
      title: "Graph invoke",
      run: (ctx) => graphSection(ctx, { name: "RedisSaver", saver: saver(ctx, "graph") }),
    },
    { id: "runs", title: "Threads and runs", run: (ctx) => runsSection(ctx) },
    {
      id: "peers",
      title: "Peers: SqliteSaver, PostgresSaver, MemorySaver",
      run: (ctx) => peersSection(ctx, saver(ctx, "peers")),
    },
    {
      id: "history",
      title: "History sweep",
      run: (ctx) => historySection(ctx, "RedisSaver", saver(ctx, "history")),
    },
    {
      id: "memory",
      title: "Memory per checkpoint",
      run: (ctx) =>
        memorySection(ctx, (scenario) => {
          const subject = saver(ctx, `memory-${scenario}`);
          return {
            name: "RedisSaver",
            keyPattern: `${subject.keyPrefix}|*`,
            nextVersion: versionsOf(subject),
            put: (args) => putStep(subject, "memory-thread", args),
          };
        }),
    },
    { id: "chatMemory", title: "Memory of a long chat", run: (ctx) => chatMemorySection(ctx) },
    { id: "retention", title: "Memory with retention", run: (ctx) => retentionSection(ctx) },
    { id: "removal", title: "Removing history from a long thread", run: (ctx) => removalSection(ctx) },
    {
      id: "delta",
      title: "Memory: DeltaChannel history",
      run: (ctx) => deltaSection(ctx, (name) => saver(ctx, name)),
    },
    {
      id: "store",
      title: "RedisStore",
      run: (ctx) =>
        storeSection(ctx, "RedisStore", new RedisStore({ client: ctx.client, keyPrefix: ctx.keyPrefix("store") })),
    },
    { id: "storeSearch", title: "RedisStore search and filter indexes", run: (ctx) => storeSearchSection(ctx) },
    { id: "guard", title: "guarded()", run: (ctx) => guardSection(ctx) },
    { id: "audit", title: "Audit outbox", run: (ctx) => auditSection(ctx) },
    { id: "offline", title: "Offline journal", run: (ctx) => offlineSection(ctx) },
    { id: "options", title: "Encryption and node cache", run: (ctx) => integrationsSection(ctx) },
    { id: "cluster", title: "Cluster: load per master", run: (ctx) => clusterSection(ctx) },
    {
      id: "concurrency",
      title: "Concurrency sweep",
      run: (ctx) =>
        concurrencySection(ctx, [
          floorSweepSubject(ctx),
          saverSweep(ctx, "default", "RedisSaver put", ctx.client, "concurrency"),
          saverSweep(ctx, "auto", "RedisSaver put, auto-pipelining", ctx.newClient({ enableAutoPipelining: true })),
        ]),
    },
  ],
  { outDir: dirname(fileURLToPath(import.meta.url)) },
);
