/**
 * Stopping the run that holds a thread's lease (cancelRun, and the "interrupt" and "rollback" multitask
 * strategies): the request is recorded beside the lease (one script); the run's own heartbeat reads it within
 * heartbeatMs, aborts the run, removes what it wrote for "rollback" and releases the lease. A run whose process died
 * is stopped here instead: its expired lease is removed (no recoverer resumes it) and its rollback done here.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { runFenceField, runLeaseMember } from "../../keys.js";
import { log } from "../../log.js";
import { MARK_RUN_LIVE } from "../../saver/run-fence.js";
import type { ThreadStatus } from "../../saver/threads/record.js";
import { SET_THREAD_STATUS } from "../../saver/threads/register.js";
import { cancelLeasedRun } from "./cancel-lease.js";
import type { LeaseScope } from "./lease-scope.js";

/** What stopRun needs of the leased graph: its checkpointer (to roll back and record the status). */
interface GraphWithCheckpointer {
  readonly checkpointer?: unknown;
}

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

/**
 * Asks the run holding `member` to stop and waits (polling every pollMs, at most waitMs) until it has: the loop of
 * cancelRun, shared with the "interrupt" and "rollback" multitask strategies of withRunLease.
 */
export async function stopRun(
  scope: LeaseScope,
  graph: GraphWithCheckpointer,
  run: { threadId: string; checkpointNs: string },
  action: "interrupt" | "rollback",
  timing: { waitMs: number; pollMs: number },
): Promise<CancelRunResult> {
  const member = runLeaseMember(run.threadId, run.checkpointNs);
  const deadline = performance.now() + timing.waitMs;
  let expected = "";
  let runId: string | undefined;
  for (;;) {
    const reply = await cancelLeasedRun(scope, member, action, expected);
    if (reply.outcome === "requested") {
      expected = String(reply.token);
      runId = reply.runId || undefined;
    } else if (reply.outcome === "stopped-crashed") {
      // Nobody will finish this run: what the caller asked for is done here.
      const field = runFenceField(scope.keyPrefix, scope.graphName, run.checkpointNs);
      await finishCrashed(graph, run.threadId, run.checkpointNs, field, action, reply.runId);
      return { outcome: "stopped-crashed", runId: reply.runId || undefined };
    } else if (reply.outcome === "not-running") {
      return expected === "" ? { outcome: "not-running" } : { outcome: "cancelled", runId };
    }
    if (performance.now() >= deadline)
      return expected === "" ? { outcome: "not-running" } : { outcome: "pending", runId };
    await sleep(timing.pollMs);
  }
}

async function finishCrashed(
  graph: GraphWithCheckpointer,
  threadId: string,
  checkpointNs: string,
  field: string,
  action: "interrupt" | "rollback",
  runId: string,
): Promise<void> {
  const checkpointer = graph.checkpointer as
    | {
        deleteForRuns?: (runIds: string[]) => Promise<unknown>;
        [SET_THREAD_STATUS]?: (threadId: string, status: ThreadStatus) => Promise<void>;
        [MARK_RUN_LIVE]?: (
          threadId: string,
          field: string,
          mark: { token: number; liveMs: number; runId: string },
        ) => Promise<boolean>;
      }
    | undefined;
  if (action === "rollback" && runId !== "") {
    try {
      // The run's live mark on the thread may outlast its expired lease by a moment (it is refreshed after each
      // renewal): the run is stopped now, so its mark goes before deleteForRuns looks at the thread.
      await checkpointer?.[MARK_RUN_LIVE]?.(threadId, field, { token: 0, liveMs: 0, runId });
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
