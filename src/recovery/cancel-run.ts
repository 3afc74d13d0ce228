/**
 * cancelRun(app, threadId, { action }): stops the run holding a thread's lease, from any process. The request is
 * recorded beside the lease (one script); the run's own heartbeat reads it within heartbeatMs, aborts the run
 * (its AbortSignal fires with a RunCancelledError), removes what it wrote for "rollback", releases the lease and
 * sets the thread's status. No pub/sub: the heartbeat the run already sends carries the answer. A run whose process
 * died is stopped here instead: its expired lease is removed, so no recoverer resumes it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { runLeaseMember } from "../keys.js";
import { log } from "../log.js";
import { parseOptions } from "../options.js";
import { requireThreadId } from "../saver/config.js";
import type { ThreadStatus } from "../saver/threads/record.js";
import { SET_THREAD_STATUS } from "../saver/threads/register.js";
import { cancelLeasedRun } from "./lease/cancel-lease.js";
import { type CancelRunOptions, cancelRunOptionsSchema } from "./options.js";
import { type LeasableGraph, requireLeasedGraph } from "./with-run-lease.js";

export interface CancelRunResult {
  /**
   * "cancelled": the run stopped and released its lease. "stopped-crashed": its process had died; the run was
   * stopped here (and rolled back when asked). "not-running": no run held the thread. "pending": the request is
   * recorded but the run had not stopped within waitMs (a node that ignores its AbortSignal): it stops when it does.
   */
  readonly outcome: "cancelled" | "stopped-crashed" | "not-running" | "pending";
  /** The run id of the cancelled run (its metadata run_id), when there was one. */
  readonly runId?: string | undefined;
}

export async function cancelRun(
  graph: unknown,
  threadId: string,
  options?: CancelRunOptions,
): Promise<CancelRunResult> {
  const context = requireLeasedGraph(graph, "cancelRun");
  const id = requireThreadId(threadId, "cancelRun");
  const parsed = parseOptions(cancelRunOptionsSchema, options, "cancelRun");
  const { action, checkpointNs, pollMs } = parsed;
  const waitMs = parsed.waitMs ?? context.timings.leaseMs + 2 * context.timings.heartbeatMs;
  const member = runLeaseMember(id, checkpointNs);
  const deadline = Date.now() + waitMs;
  let expected = "";
  let runId: string | undefined;
  for (;;) {
    const reply = await cancelLeasedRun(context.scope, member, action, expected);
    if (reply.outcome === "requested") {
      expected = String(reply.token);
      runId = reply.runId || undefined;
    } else if (reply.outcome === "stopped-crashed") {
      // Nobody will finish this run: what the caller asked for is done here.
      await finishCrashed(context.graph, id, checkpointNs, action, reply.runId);
      return { outcome: "stopped-crashed", runId: reply.runId || undefined };
    } else if (reply.outcome === "not-running") {
      return expected === "" ? { outcome: "not-running" } : { outcome: "cancelled", runId };
    }
    if (Date.now() >= deadline) return expected === "" ? { outcome: "not-running" } : { outcome: "pending", runId };
    await sleep(pollMs);
  }
}

async function finishCrashed(
  graph: LeasableGraph,
  threadId: string,
  checkpointNs: string,
  action: "interrupt" | "rollback",
  runId: string,
): Promise<void> {
  const checkpointer = graph.checkpointer as
    | {
        deleteForRuns?: (runIds: string[]) => Promise<unknown>;
        [SET_THREAD_STATUS]?: (threadId: string, status: ThreadStatus) => Promise<void>;
      }
    | undefined;
  if (action === "rollback" && runId !== "") {
    try {
      await checkpointer?.deleteForRuns?.([runId]);
    } catch (error) {
      log("cancelRun: rollback of run %s on thread %j failed: %s", runId, threadId, String(error));
      throw error;
    }
  }
  if (checkpointNs === "") {
    await checkpointer?.[SET_THREAD_STATUS]?.(threadId, action === "rollback" ? "idle" : "interrupted");
  }
}
