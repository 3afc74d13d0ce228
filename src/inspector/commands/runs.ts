import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findCrashedRuns } from "../../recovery/find.js";
import { leasedGraphContext } from "../../recovery/leased-graph.js";
import { resumeCrashedRuns } from "../../recovery/resume.js";
import { type CommandContext, type CommandResult, intOption, stringOption } from "../context.js";
import { InspectorNotFoundError, InspectorUsageError } from "../errors.js";
import { formatDuration, formatTime, table } from "../output.js";
import { nextNodes } from "../read/checkpoints.js";
import { type RunLeaseInfo, readLeaseIndexes } from "../read/leases.js";

type RunState = "running" | "crashed" | "stale";

/**
 * `runs [--graph-name name] [--graph module]`: every run lease, live or expired, and which expired ones are crashed
 * runs. With --graph (a module exporting the leased graph) crashed runs come from findCrashedRuns (exact, without
 * pruning anything); without it, from the thread's latest checkpoint (work pending or not).
 */
export async function runsCommand(ctx: CommandContext): Promise<CommandResult> {
  const graphName = stringOption(ctx, "graph-name");
  const maxLeases = intOption(ctx, "limit", 1000);
  const { indexes, nowMs, complete } = await readLeaseIndexes(ctx.client, ctx.patterns, {
    maxKeys: ctx.maxKeys,
    maxLeases,
    ...(graphName !== undefined ? { graph: graphName } : {}),
  });
  const leases = indexes.flatMap((index) => index.leases);
  const graphModule = stringOption(ctx, "graph");
  const crashedExact = graphModule === undefined ? undefined : await crashedFromGraph(ctx, graphModule);
  const runs = await Promise.all(
    leases.map(async (lease) => {
      let state: RunState = "running";
      let pending: readonly string[] = [];
      if (lease.state === "expired") {
        if (crashedExact) {
          const run = crashedExact.get(`${lease.threadId}\0${lease.checkpointNs}`);
          state = run ? "crashed" : "stale";
          pending = run?.pendingNodes ?? [];
        } else {
          const tuple = await ctx.saver.getTuple({
            configurable: { thread_id: lease.threadId, checkpoint_ns: lease.checkpointNs },
          });
          pending = tuple ? nextNodes(tuple) : [];
          state = tuple && (pending.length > 0 || (tuple.pendingWrites ?? []).length > 0) ? "crashed" : "stale";
        }
      }
      return { ...lease, run: state, pendingNodes: pending };
    }),
  );
  const text =
    runs.length === 0
      ? `no run leases under the prefix ${JSON.stringify(ctx.prefix)} (runs hold one while withRunLease() runs them)`
      : table(
          ["graph", "thread", "ns", "run", "holder", "kind", "since", "expires", "token", "pending"],
          runs.map((r) => [
            r.graph,
            r.threadId,
            r.checkpointNs,
            r.run,
            r.holder?.owner,
            r.holder?.kind,
            r.holder ? formatTime(r.holder.sinceMs) : "-",
            r.remainingMs >= 0 ? `in ${formatDuration(r.remainingMs)}` : `${formatDuration(-r.remainingMs)} ago`,
            r.holder?.token,
            r.pendingNodes,
          ]),
        );
  const crashed = runs.filter((r) => r.run === "crashed").length;
  return {
    data: {
      prefix: ctx.prefix,
      serverTimeMs: nowMs,
      complete,
      graphs: indexes.map((i) => ({ graph: i.graph, tokenCounter: i.tokenCounter, leases: i.leases.length })),
      runs,
    },
    text: runs.length === 0 ? text : `${text}\n${plural(runs.length, "lease")}, ${plural(crashed, "crashed run")}`,
  };
}

async function crashedFromGraph(ctx: CommandContext, spec: string) {
  const graph = await loadGraph(ctx, spec);
  const runs = await findCrashedRuns(graph, { prune: false, limit: 10_000 });
  return new Map(runs.map((run) => [`${run.threadId}\0${run.checkpointNs}`, run]));
}

/**
 * `resume --graph module[#export] [--limit n] [--concurrency n] [--dry-run]`: resumes crashed runs of that leased
 * graph with resumeCrashedRuns, printing progress as each run settles. Exit code 1 when any resume failed.
 */
export async function resumeCommand(ctx: CommandContext): Promise<CommandResult> {
  const spec = stringOption(ctx, "graph");
  if (spec === undefined) {
    throw new InspectorUsageError(
      "resume needs --graph <module>[#export]: a module exporting the graph returned by withRunLease() (or a " +
        "function ({ client, keyPrefix }) returning it); resuming runs the graph's nodes, so it must be your code",
    );
  }
  const graph = await loadGraph(ctx, spec);
  const limit = intOption(ctx, "limit", 100);
  if (ctx.options["dry-run"] === true) {
    const runs = await findCrashedRuns(graph, { prune: false, limit });
    const text =
      runs.length === 0
        ? "no crashed runs"
        : table(
            ["thread", "ns", "checkpoint", "held by", "expired", "pending", "finished"],
            runs.map((r) => [
              r.threadId,
              r.checkpointNs,
              r.checkpointId,
              r.heldBy,
              r.leaseExpiredAt,
              r.pendingNodes,
              r.finishedNodes,
            ]),
          );
    return { data: { dryRun: true, runs }, text };
  }
  const concurrency = intOption(ctx, "concurrency", 4);
  const report = await resumeCrashedRuns(graph, {
    limit,
    concurrency,
    onProgress: (p) =>
      ctx.progress(
        `resume: ${p.done}/${p.total} settled (${p.resumed} resumed, ${p.failed} failed, ${p.skipped} skipped)`,
      ),
  });
  const results = report.results.map((r) => ({
    threadId: r.run.threadId,
    checkpointNs: r.run.checkpointNs,
    outcome: r.outcome,
    ...(r.outcome === "skipped" ? { reason: r.reason } : {}),
    ...(r.outcome === "failed" ? { error: r.error instanceof Error ? r.error.message : String(r.error) } : {}),
    ...("durationMs" in r ? { durationMs: r.durationMs } : {}),
  }));
  const text =
    report.total === 0
      ? "no crashed runs to resume"
      : `${table(
          ["thread", "ns", "outcome", "detail"],
          results.map((r) => [
            r.threadId,
            r.checkpointNs,
            r.outcome,
            r.reason ?? r.error ?? formatDuration(r.durationMs ?? 0),
          ]),
        )}\n${report.resumed} resumed, ${report.failed} failed, ${report.skipped} skipped${report.more ? " (more remain: run again)" : ""}`;
  const { results: _raw, ...counts } = report;
  return { data: { ...counts, results }, text, ...(report.failed > 0 ? { code: 1 } : {}) };
}

/** Imports `module[#export]` (default export, else `graph`); a function export is called with { client, keyPrefix }. */
async function loadGraph(ctx: CommandContext, spec: string): Promise<unknown> {
  const hash = spec.lastIndexOf("#");
  const path = hash > 0 ? spec.slice(0, hash) : spec;
  const name = hash > 0 ? spec.slice(hash + 1) : undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InspectorNotFoundError(`--graph: cannot import ${JSON.stringify(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exported = name !== undefined ? module[name] : (module.default ?? module.graph);
  if (exported === undefined) {
    throw new InspectorUsageError(
      `--graph: ${JSON.stringify(path)} exports no ${name !== undefined ? JSON.stringify(name) : 'default or "graph"'}`,
    );
  }
  const graph =
    typeof exported === "function" && leasedGraphContext(exported) === undefined
      ? await (exported as (o: { client: unknown; keyPrefix: string }) => unknown)({
          client: ctx.client,
          keyPrefix: ctx.prefix,
        })
      : exported;
  if (leasedGraphContext(graph) === undefined) {
    throw new InspectorUsageError(`--graph: ${JSON.stringify(spec)} is not a graph returned by withRunLease()`);
  }
  return graph;
}

export type { RunLeaseInfo };

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
