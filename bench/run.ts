/**
 * `npm run bench`: langgraph-redis against the physical floor (raw ioredis round trips carrying the same bytes).
 * See bench/runner.ts for the environment variables and docs/benchmarks.md for how to read the results.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { RedisStore } from "../src/index.js";
import { floorOps, floorSection } from "./floor.js";
import { graphSection } from "./graph.js";
import { guardSection } from "./guard.js";
import { deleteKeys } from "./keyspace.js";
import {
  CheckpointSequence,
  fullCheckpointBytes,
  putPayloadBytes,
  typicalStep,
  typicalWrites,
  writesBytes,
} from "./payloads.js";
import { runBench } from "./runner.js";
import { storeSection } from "./store.js";
import { concurrencySection } from "./sweep.js";

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

await runBench(
  () => [
    { id: "floor", title: "Floor", run: (ctx) => floorSection(ctx, sizes) },
    { id: "graph", title: "Graph invoke", run: (ctx) => graphSection(ctx) },
    {
      id: "store",
      title: "RedisStore",
      run: (ctx) =>
        storeSection(ctx, "RedisStore", new RedisStore({ client: ctx.client, keyPrefix: ctx.keyPrefix("store") })),
    },
    { id: "guard", title: "guarded()", run: (ctx) => guardSection(ctx) },
    {
      id: "concurrency",
      title: "Concurrency sweep",
      run: async (ctx) => {
        const prefix = ctx.keyPrefix("sweep-floor");
        await concurrencySection(ctx, [
          {
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
          },
        ]);
      },
    },
  ],
  { outDir: dirname(fileURLToPath(import.meta.url)) },
);
