import { findCrashedRuns } from "../../recovery/find-crashed-runs.js";
import { resumeCrashedRuns } from "../../recovery/resume-crashed-runs.js";
import { type CommandContext, type CommandResult, intOption, stringOption } from "../context.js";
import { InspectorUsageError } from "../errors.js";
import { formatDuration, table } from "../output.js";
import { loadGraph } from "../read/graph-module.js";

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
