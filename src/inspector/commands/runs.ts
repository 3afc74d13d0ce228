import { findCrashedRuns } from "../../recovery/find-crashed-runs.js";
import { type CommandContext, type CommandResult, intOption, stringOption } from "../context.js";
import { formatDuration, formatTime, plural, table } from "../output.js";
import { nextNodes } from "../read/checkpoints.js";
import { loadGraph } from "../read/graph-module.js";
import { readLeaseIndexes } from "../read/leases.js";

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
