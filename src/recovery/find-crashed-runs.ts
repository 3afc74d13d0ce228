import type { RunnableConfig } from "@langchain/core/runnables";
import type { StateSnapshot } from "@langchain/langgraph";
import { runLeaseMember } from "../keys.js";
import { log } from "../log.js";
import { parseOptions } from "../options.js";
import { traced } from "../telemetry/index.js";
import { forEachLimited } from "./helpers/concurrency.js";
import { type ExpiredLease, listExpiredLeases } from "./lease/list-expired-leases.js";
import { pruneLease } from "./lease/prune-lease.js";
import { type FindCrashedRunsOptions, findCrashedRunsOptionsSchema } from "./options.js";
import type { CrashedRun, NotCrashedReason } from "./types.js";
import { requireLeasedGraph } from "./with-run-lease.js";

/** An expired entry and what its thread's latest state says about it. */
export type InspectedLease =
  | { readonly crashed: true; readonly run: CrashedRun }
  | { readonly crashed: false; readonly lease: ExpiredLease; readonly reason: NotCrashedReason }
  | { readonly crashed: false; readonly lease: ExpiredLease; readonly reason: "unreadable"; readonly error: unknown };

/**
 * Lists runs that died with work pending: threads whose lease expired while their latest checkpoint still has tasks
 * to run (not finished, not stopped at an interrupt). Reads the expired entries of the lease index (the
 * cost grows with expired leases, never with finished threads), then loads each of those threads' state.
 * Expired entries with nothing to resume are removed unless `prune` is false. A thread whose state cannot be loaded
 * goes to `onError` when given; otherwise its error is thrown once every other thread has been inspected.
 */
export function findCrashedRuns(graph: unknown, options?: FindCrashedRunsOptions): Promise<CrashedRun[]> {
  return traced("recovery.findCrashedRuns", {}, () => findCrashed(graph, options), "internal");
}

async function findCrashed(graph: unknown, options?: FindCrashedRunsOptions): Promise<CrashedRun[]> {
  const inspected = await inspectExpiredLeases(graph, options, "findCrashedRuns");
  const onError = options?.onError;
  const runs: CrashedRun[] = [];
  let firstError: { error: unknown } | undefined;
  for (const entry of inspected) {
    if (entry.crashed) runs.push(entry.run);
    else if (entry.reason === "unreadable") {
      if (onError) onError(entry.error, { threadId: entry.lease.threadId, checkpointNs: entry.lease.checkpointNs });
      else firstError ??= { error: entry.error };
    }
  }
  if (firstError) throw firstError.error;
  return runs;
}

/**
 * findCrashedRuns with the not-crashed entries too (for resumeCrashedRuns and tests), the `leftAlone` members
 * skipped (see listExpiredLeases).
 */
export async function inspectExpiredLeases(
  graph: unknown,
  options: FindCrashedRunsOptions | undefined,
  owner: string,
  leftAlone?: ReadonlySet<string>,
): Promise<InspectedLease[]> {
  const context = requireLeasedGraph(graph, owner);
  const parsed = parseOptions(findCrashedRunsOptionsSchema, options, owner);
  const skipped = withSkipped(leftAlone, parsed.skip);
  const { leases } = await listExpiredLeases(context.scope, parsed.limit, skipped);
  const inspected: InspectedLease[] = new Array(leases.length);
  await forEachLimited(leases, parsed.inspectConcurrency, async (lease, index) => {
    const config: RunnableConfig = { configurable: { thread_id: lease.threadId, checkpoint_ns: lease.checkpointNs } };
    let entry: InspectedLease;
    try {
      entry = classify(lease, await context.graph.getState(config), config);
    } catch (error) {
      inspected[index] = { crashed: false, lease, reason: "unreadable", error };
      return;
    }
    inspected[index] = entry;
    if (!entry.crashed && parsed.prune) {
      const pruned = await pruneLease(context.scope, lease.member, lease.holder.token);
      log("recovery: expired lease of thread %j (%s): prune %s", lease.threadId, entry.reason, pruned);
    }
  });
  return inspected;
}

/** The lease members to read past: `leftAlone`, and the runs of the `skip` option. */
function withSkipped(
  leftAlone: ReadonlySet<string> | undefined,
  skip: readonly { threadId: string; checkpointNs: string }[] | undefined,
): ReadonlySet<string> | undefined {
  if (skip === undefined || skip.length === 0) return leftAlone;
  return new Set([...(leftAlone ?? []), ...skip.map((run) => runLeaseMember(run.threadId, run.checkpointNs))]);
}

function classify(lease: ExpiredLease, snapshot: StateSnapshot, config: RunnableConfig): InspectedLease {
  const checkpointId: unknown = snapshot.config?.configurable?.checkpoint_id;
  if (typeof checkpointId !== "string") return { crashed: false, lease, reason: "no-checkpoint" };
  // `tasks` is the step after the latest checkpoint; `next` the ones among them whose writes are not stored. Every
  // task of the step may have stored its writes while the next checkpoint was not: that run is not finished.
  if (snapshot.tasks.length === 0) return { crashed: false, lease, reason: "finished" };
  const pending = snapshot.tasks.filter((task) => snapshot.next.includes(task.name));
  // A task that recorded an error still has to run: its owner died (or lost its lease) before it could report
  // the failure, so the run counts as crashed, and resuming retries the task.
  if (pending.length > 0 && pending.every((task) => task.interrupts.length > 0)) {
    return { crashed: false, lease, reason: "interrupted" };
  }
  return {
    crashed: true,
    run: {
      threadId: lease.threadId,
      checkpointNs: lease.checkpointNs,
      checkpointId,
      pendingNodes: [...snapshot.next],
      finishedNodes: snapshot.tasks.filter((task) => !snapshot.next.includes(task.name)).map((task) => task.name),
      leaseExpiredAt: new Date(lease.expiredAtMs),
      heldBy: lease.holder.owner,
      heldAs: lease.holder.kind,
      leaseToken: lease.holder.token,
      config,
    },
  };
}
