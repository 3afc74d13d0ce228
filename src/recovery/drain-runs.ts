/**
 * drainRuns(app): hands this process's runs over for a deploy. The leased graph stops taking new runs
 * (RunsDrainingError), asks each run in flight to stop at its next step boundary (LangGraph's
 * RunControl.requestDrain: the step's checkpoint is stored, then the run throws GraphDrained), and marks each
 * drained run's lease expired at once, so a recovery worker in another process resumes it on its next pass instead
 * of after leaseMs. drainOnSignal(app) does the same on SIGTERM.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseOptions } from "../options.js";
import { type DrainRunsOptions, drainRunsOptionsSchema } from "./options.js";
import { requireLeasedGraph } from "./with-run-lease.js";

export interface DrainReport {
  /** Runs stopped at a step boundary and handed to the recoverers (since the graph was wrapped). */
  readonly handedOff: number;
  /** Runs still in flight when `timeoutMs` passed (a step longer than that); they hand off when they stop. */
  readonly remaining: number;
}

export async function drainRuns(graph: unknown, options?: DrainRunsOptions): Promise<DrainReport> {
  const context = requireLeasedGraph(graph, "drainRuns");
  const { timeoutMs, reason } = parseOptions(drainRunsOptionsSchema, options, "drainRuns");
  const drain = context.drain;
  drain.draining = true;
  for (const run of drain.inFlight) run.control.requestDrain(reason);
  const deadline = performance.now() + timeoutMs;
  while (drain.inFlight.size > 0 && performance.now() < deadline) {
    await Promise.race([
      new Promise<void>((resolve) => {
        drain.onSettled = resolve;
      }),
      sleep(Math.min(50, Math.max(0, deadline - performance.now()))),
    ]);
  }
  drain.onSettled = undefined;
  return { handedOff: drain.handedOff, remaining: drain.inFlight.size };
}

/**
 * Calls drainRuns(app) when the process receives `signal` (default SIGTERM), then `onDrained` with the report
 * (exit there). Returns a function that removes the handler.
 */
export function drainOnSignal(
  graph: unknown,
  options: DrainRunsOptions & { signal?: NodeJS.Signals; onDrained?: (report: DrainReport) => void } = {},
): () => void {
  requireLeasedGraph(graph, "drainOnSignal");
  const { signal = "SIGTERM", onDrained, ...drainOptions } = options;
  const handler = () => {
    void drainRuns(graph, drainOptions).then((report) => onDrained?.(report));
  };
  process.once(signal, handler);
  return () => process.off(signal, handler);
}
