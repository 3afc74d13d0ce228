/**
 * cancelRun(app, threadId, { action }): stops the run holding a thread's lease, from any process. The request is
 * recorded beside the lease (one script); the run's own heartbeat reads it within heartbeatMs, aborts the run
 * (its AbortSignal fires with a RunCancelledError), removes what it wrote for "rollback", releases the lease and
 * sets the thread's status. No pub/sub: the heartbeat the run already sends carries the answer. A run whose process
 * died is stopped here instead: its expired lease is removed, so no recoverer resumes it.
 */
import { parseOptions } from "../options.js";
import { requireThreadId } from "../saver/config.js";
import { type CancelRunResult, stopRun } from "./lease/stop-run.js";
import { type CancelRunOptions, cancelRunOptionsSchema } from "./options.js";
import { requireLeasedGraph } from "./with-run-lease.js";

export type { CancelRunResult } from "./lease/stop-run.js";

export async function cancelRun(
  graph: unknown,
  threadId: string,
  options?: CancelRunOptions,
): Promise<CancelRunResult> {
  const context = requireLeasedGraph(graph, "cancelRun");
  const id = requireThreadId(threadId, "cancelRun");
  const parsed = parseOptions(cancelRunOptionsSchema, options, "cancelRun");
  const waitMs = parsed.waitMs ?? context.timings.leaseMs + 2 * context.timings.heartbeatMs;
  return stopRun(context.scope, context.graph, { threadId: id, checkpointNs: parsed.checkpointNs }, parsed.action, {
    waitMs,
    pollMs: parsed.pollMs,
  });
}
