import type { RunnableConfig } from "@langchain/core/runnables";
import { ClaimLostError, ClockSkewError } from "../errors.js";
import { runLeaseMember } from "../keys.js";
import { log } from "../log.js";
import { parseOptions } from "../options.js";
import { countEvent, traced } from "../telemetry/index.js";
import { inspectExpiredLeases } from "./find-crashed-runs.js";
import { forEachLimited } from "./helpers/concurrency.js";
import { claimRun } from "./lease/claim-run.js";
import { type ResumeCrashedRunsOptions, resumeCrashedRunsOptionsSchema } from "./options.js";
import type { ResumeReport, ResumeResult, SkipReason } from "./types.js";
import { requireLeasedGraph } from "./with-run-lease.js";

/**
 * Finds crashed runs of a leased graph and resumes each with `graph.invoke(null, run.config)`. Each run is first
 * claimed atomically, so concurrent recoverers split the work and never resume the same run twice; the resume then
 * runs under a fresh lease of its own, like any run. Resolves once every claimed resume has settled.
 */
export async function resumeCrashedRuns(graph: unknown, options?: ResumeCrashedRunsOptions): Promise<ResumeReport> {
  return (await resumeCrashedRunsExcept(graph, options, new Set())).report;
}

/** What a pass found that it could not change: the lease members (runLeaseMember) a recovery worker leaves alone. */
export interface StuckRuns {
  /** Runs whose resume failed with ClockSkewError, and by how much (ms) this host's clock is behind. */
  readonly clockBehind: ReadonlyMap<string, number>;
  /** Threads whose state could not be loaded (their entries stay in the index). */
  readonly unreadable: readonly string[];
}

/**
 * resumeCrashedRuns skipping the `leftAlone` lease members (neither listed nor claimed: see listExpiredLeases), for
 * the recovery worker (start-recovery-worker.ts); also says which runs of this pass it could not change.
 */
export function resumeCrashedRunsExcept(
  graph: unknown,
  options: ResumeCrashedRunsOptions | undefined,
  leftAlone: ReadonlySet<string>,
): Promise<{ report: ResumeReport; stuck: StuckRuns }> {
  return traced("recovery.resumeCrashedRuns", {}, () => resumeCrashed(graph, options, leftAlone), "internal");
}

async function resumeCrashed(
  graph: unknown,
  options: ResumeCrashedRunsOptions | undefined,
  leftAlone: ReadonlySet<string>,
): Promise<{ report: ResumeReport; stuck: StuckRuns }> {
  const context = requireLeasedGraph(graph, "resumeCrashedRuns");
  const parsed = parseOptions(resumeCrashedRunsOptionsSchema, options, "resumeCrashedRuns");
  const claimer = parsed.owner ?? context.timings.owner;
  const claimMs = parsed.claimMs ?? context.timings.leaseMs;
  const signal = parsed.signal;
  const extra = (parsed.config ?? {}) as RunnableConfig;

  const inspected = await inspectExpiredLeases(
    graph,
    { limit: parsed.limit, skip: parsed.skip },
    "resumeCrashedRuns",
    leftAlone,
  );
  const clockBehind = new Map<string, number>();
  const results: ResumeResult[] = [];
  const counts = { resumed: 0, failed: 0, skipped: 0, running: 0 };
  const crashed = inspected.flatMap((entry) => (entry.crashed ? [entry.run] : []));
  const unreadable = inspected.flatMap((entry) => (!entry.crashed && entry.reason === "unreadable" ? [entry] : []));
  const total = crashed.length + unreadable.length;
  const settle = (result: ResumeResult): void => {
    results.push(result);
    counts[result.outcome] += 1;
    try {
      parsed.onProgress?.({ total, done: results.length, ...counts });
    } catch (error) {
      log("recovery: onProgress threw: %s", String(error));
    }
  };

  for (const entry of unreadable) {
    const { threadId, checkpointNs } = entry.lease;
    settle({ outcome: "failed", run: { threadId, checkpointNs }, error: entry.error, durationMs: 0 });
  }

  await forEachLimited(crashed, parsed.concurrency, async (run) => {
    if (signal?.aborted) return settle({ outcome: "skipped", run, reason: "stopped" });
    const member = runLeaseMember(run.threadId, run.checkpointNs);
    let claim: Awaited<ReturnType<typeof claimRun>>;
    try {
      claim = await claimRun(context.scope, member, run.leaseToken, claimer, claimMs);
    } catch (error) {
      return settle({ outcome: "failed", run, error, durationMs: 0 });
    }
    if (!claim.claimed) {
      const reason: SkipReason = claim.reason === "taken" ? "claimed-elsewhere" : claim.reason;
      return settle({ outcome: "skipped", run, reason });
    }
    log("recovery: resuming thread %j from checkpoint %s (held by %s)", run.threadId, run.checkpointId, run.heldBy);
    const startedMs = performance.now();
    counts.running += 1;
    try {
      const config = { ...extra, ...run.config, configurable: { ...extra.configurable, ...run.config.configurable } };
      await context.invoke(null, config, claim.token);
      counts.running -= 1;
      settle({ outcome: "resumed", run, durationMs: performance.now() - startedMs });
      countEvent("runsResumed");
    } catch (error) {
      counts.running -= 1;
      if (error instanceof ClaimLostError) return settle({ outcome: "skipped", run, reason: "claimed-elsewhere" });
      if (error instanceof ClockSkewError) clockBehind.set(member, error.behindMs);
      settle({ outcome: "failed", run, error, durationMs: performance.now() - startedMs });
    }
  });
  // Entries this pass could not change: calling again would only find them again, so no more is said to wait then.
  const unchanged = clockBehind.size + unreadable.length;
  return {
    report: {
      total,
      done: results.length,
      ...counts,
      results,
      more: inspected.length >= parsed.limit && unchanged < inspected.length,
    },
    stuck: { clockBehind, unreadable: unreadable.map((entry) => entry.lease.member) },
  };
}
