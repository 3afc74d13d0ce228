/**
 * Runs bench sections against REDIS_URL or a throwaway local redis-server: sets up the context, shows progress,
 * evaluates the targets, prints the table and writes bench/results.json and bench/results.md. A failing section is
 * reported and the others still run; the exit code is 1 only then, never because a target is missed.
 *
 * Environment: REDIS_URL (a standalone server; default: start one and stop it by pid afterwards), BENCH_SCALE
 * (multiplies sample counts and durations; default 1), BENCH_ONLY (comma-separated section ids).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Redis } from "ioredis";
import { type LocalRedis, startRedis } from "../scripts/local-redis.js";
import { type BenchContext, runRootPrefix, type Section } from "./context.js";
import { deleteKeys } from "./keyspace.js";
import { Progress } from "./progress.js";
import { renderText, writeResults } from "./report.js";
import { type BenchResults, Recorder, type SectionOutcome } from "./results.js";
import { evaluateTargets } from "./targets.js";
import { nowMs, scaleDefaultWarmup } from "./timing.js";

export interface RunOptions {
  /** Where results.json and results.md go; nothing is written when undefined. */
  readonly outDir?: string;
}

function readScale(): number {
  const scale = Number(process.env.BENCH_SCALE ?? "1");
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
  return scale;
}

/** Runs `sections` in order; `setup` builds them once the context exists (they may need its client). */
export async function runBench(
  setup: (ctx: BenchContext) => Promise<readonly Section[]> | readonly Section[],
  options: RunOptions = {},
): Promise<BenchResults> {
  const scale = readScale();
  scaleDefaultWarmup(scale);
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
  const onSignal = () => {
    void stopLocal().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let url = process.env.REDIS_URL;
  const redisSource = url ? "REDIS_URL" : "throwaway local redis-server";
  if (!url) {
    local = await startRedis();
    url = local.url;
    progress.step(`started a throwaway redis-server on port ${local.port} (pid ${local.pid})`);
  }

  const clients: Redis[] = [];
  const open = (clientOptions: { enableAutoPipelining?: boolean } = {}) => {
    const client = new Redis(url as string, { maxRetriesPerRequest: 1, ...clientOptions });
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

  const outcomes: SectionOutcome[] = [];
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();
  let redisVersion = "unknown";
  try {
    const info = await client.info("server");
    redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    const load = loadAvgStart.map((v) => v.toFixed(2)).join(" ");
    progress.section(`langgraph-redis bench on Redis ${redisVersion}, load average ${load}, scale ${scale}`);
    const sections = await setup(ctx);
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
    if (!local) {
      const removed = await deleteKeys(client, `${rootPrefix}-*`);
      progress.step(`removed ${removed} bench keys from the REDIS_URL server`);
    }
  } finally {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await stopLocal();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  const cpu = cpus();
  const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
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
      redisSource,
      packageVersion: packageJson.version,
      scale,
    },
    sections: outcomes,
    tables: recorder.tables,
    metrics: Object.fromEntries(recorder.metrics),
    targets: evaluateTargets(recorder.metrics),
  };
  process.stdout.write(renderText(results));
  if (options.outDir) {
    const written = writeResults(results, options.outDir);
    progress.step(`wrote ${written.json} and ${written.markdown}`);
  }
  if (outcomes.some((o) => o.status === "failed")) process.exitCode = 1;
  return results;
}
