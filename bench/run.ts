/**
 * `npm run bench`: measures langgraph-redis against the physical floor (raw ioredis round trips carrying the same
 * bytes) on REDIS_URL or a throwaway local redis-server, prints a table, writes bench/results.json and
 * bench/results.md, and prints each target with met/missed. It never fails because a target is missed; it exits 1
 * only when a section itself breaks.
 *
 * Environment: REDIS_URL (a standalone server; default: start one), BENCH_SCALE (multiplies sample counts and
 * durations; default 1), BENCH_ONLY (comma-separated section ids, for a partial run).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../scripts/local-redis.js";
import type { BenchContext, Section } from "./context.js";
import { runRootPrefix } from "./context.js";
import { floorOps, floorSection } from "./floor.js";
import { graphSection } from "./graph.js";
import { deleteKeys } from "./keyspace.js";
import {
  CheckpointSequence,
  fullCheckpointBytes,
  putPayloadBytes,
  typicalStep,
  typicalWrites,
  writesBytes,
} from "./payloads.js";
import { Progress } from "./progress.js";
import { renderText, writeResults } from "./report.js";
import { type BenchResults, Recorder, type SectionOutcome } from "./results.js";
import { concurrencySection } from "./sweep.js";
import { evaluateTargets } from "./targets.js";
import { nowMs } from "./timing.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const scale = Number(process.env.BENCH_SCALE ?? "1");
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
const only = process.env.BENCH_ONLY?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);

const progress = new Progress();
let local: LocalRedis | undefined;
const stopLocal = async () => {
  const server = local;
  local = undefined;
  await server?.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopLocal().finally(() => process.exit(130));
  });
}

let url = process.env.REDIS_URL;
let redisSource = "REDIS_URL";
if (!url) {
  local = await startRedis();
  url = local.url;
  redisSource = `throwaway local redis-server, pid ${local.pid}`;
  progress.step(`started a throwaway redis-server on port ${local.port} (pid ${local.pid})`);
}

const clients: Redis[] = [];
const open = (options: { enableAutoPipelining?: boolean } = {}) => {
  const client = new Redis(url as string, { maxRetriesPerRequest: 1, ...options });
  clients.push(client);
  return client;
};
const client = open();
const rootPrefix = runRootPrefix();
const recorder = new Recorder();
const ctx: BenchContext = {
  client,
  newClient: open,
  keyPrefix: (name) => `${rootPrefix}-${name}`,
  progress,
  recorder,
  iterations: (n, min = 20) => Math.max(min, Math.round(n * scale)),
  durationMs: (ms) => Math.max(200, Math.round(ms * scale)),
};

// Payload sizes of the typical step, so the floor table covers the bytes each operation moves.
const sample = new CheckpointSequence();
sample.next(typicalStep(0));
const typical = sample.next(typicalStep(1));
const sizes = [
  { label: "put payload", bytes: await putPayloadBytes(typical) },
  { label: "checkpoint read", bytes: await fullCheckpointBytes(typical) },
  { label: "putWrites payload", bytes: await writesBytes(typicalWrites(1)) },
];
const putBytes = sizes[0]?.bytes ?? 0;

const sections: Section[] = [
  { id: "floor", title: "Floor", run: (c) => floorSection(c, sizes) },
  { id: "graph", title: "Graph invoke", run: (c) => graphSection(c) },
  {
    id: "concurrency",
    title: "Concurrency sweep",
    run: async (c) => {
      const prefix = c.keyPrefix("sweep-floor");
      await concurrencySection(c, [
        {
          name: `SET ${putBytes} B (floor)`,
          prepare: async (threads) => {
            const ops = await Promise.all(
              Array.from({ length: threads }, (_, i) => floorOps(c.client, `${prefix}:t${i}`, putBytes)),
            );
            return (thread) => (ops[thread] as (typeof ops)[number]).set();
          },
          cleanup: async () => {
            await deleteKeys(c.client, `${prefix}:*`);
          },
        },
      ]);
    },
  },
];

const info = await client.info("server");
const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
const packageVersion = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const startedAt = new Date().toISOString();
const loadAvgStart = loadavg();
progress.section(
  `langgraph-redis bench on Redis ${redisVersion}; load average ${loadAvgStart.map((v) => v.toFixed(2)).join(" ")}`,
);

const outcomes: SectionOutcome[] = [];
for (const section of sections) {
  if (only && !only.includes(section.id)) {
    outcomes.push({ id: section.id, title: section.title, status: "skipped", durationMs: 0, detail: "BENCH_ONLY" });
    continue;
  }
  progress.section(section.title);
  const t0 = nowMs();
  try {
    await section.run(ctx);
    outcomes.push({ id: section.id, title: section.title, status: "measured", durationMs: nowMs() - t0 });
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    progress.step(`FAILED: ${detail}`);
    outcomes.push({ id: section.id, title: section.title, status: "failed", durationMs: nowMs() - t0, detail });
  }
}

const cpu = cpus();
const results: BenchResults = {
  run: {
    startedAt,
    durationMs: progress.elapsedMs(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    loadAvgStart,
    loadAvgEnd: loadavg(),
    redisVersion,
    redisSource: local ? "throwaway local redis-server" : redisSource,
    packageVersion,
    scale,
  },
  sections: outcomes,
  tables: recorder.tables,
  metrics: Object.fromEntries(recorder.metrics),
  targets: evaluateTargets(recorder.metrics),
};

if (!local) {
  const removed = await deleteKeys(client, `${rootPrefix}-*`);
  progress.step(`removed ${removed} bench keys from REDIS_URL`);
}
await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
await stopLocal();

process.stdout.write(renderText(results));
const written = writeResults(results, benchDir);
progress.step(`wrote ${written.json} and ${written.markdown}`);
process.exitCode = outcomes.some((o) => o.status === "failed") ? 1 : 0;
