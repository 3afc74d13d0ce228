import { ClockSkewError } from "../errors.js";
import { log } from "../log.js";
import { parseOptions } from "../options.js";
import { type RecoveryWorkerOptions, recoveryWorkerOptionsSchema } from "./options.js";
import { resumeCrashedRunsExcept } from "./resume-crashed-runs.js";
import type { ResumeReport, ResumeResult, RunRef } from "./types.js";
import { requireLeasedGraph } from "./with-run-lease.js";

export interface RecoveryWorkerStats {
  /** Passes completed (each one finds crashed runs and resumes them). */
  readonly passes: number;
  readonly resumed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Passes that failed as a whole (reported to onError). */
  readonly errors: number;
}

/** A running recovery worker. */
export interface RecoveryWorker {
  /** Stops claiming runs, waits for the resumes in flight to settle and clears every timer. Idempotent. */
  stop(): Promise<void>;
  readonly stopped: boolean;
  readonly stats: RecoveryWorkerStats;
}

/**
 * Starts a loop that resumes crashed runs of a leased graph: one resumeCrashedRuns pass, then a pause of
 * `intervalMs` (none when the pass hit `limit` and more may be waiting, unless it left every entry it found as it
 * was), until stop() or `signal`.
 * The pause timer is unref'd: the worker keeps a process alive only through its Redis connection. Errors never
 * escape the loop: a failed pass goes to `onError`, each settled run to `onResult`.
 */
export function startRecoveryWorker(graph: unknown, options?: RecoveryWorkerOptions): RecoveryWorker {
  requireLeasedGraph(graph, "startRecoveryWorker");
  const parsed = parseOptions(recoveryWorkerOptionsSchema, options, "startRecoveryWorker");
  const { intervalMs, onResult, onError, signal: userSignal, ...resumeOptions } = parsed;
  const controller = new AbortController();
  const stats = { passes: 0, resumed: 0, failed: 0, skipped: 0, errors: 0 };
  let pause: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  const stopNow = (): void => {
    controller.abort();
    if (pause) {
      clearTimeout(pause.timer);
      pause.wake();
    }
  };
  userSignal?.addEventListener("abort", stopNow, { once: true });
  if (userSignal?.aborted) stopNow();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (controller.signal.aborted) return resolve();
      const wake = (): void => {
        pause = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      pause = { timer, wake };
    });

  const behind = new ClockBehindRuns();

  const pass = async (): Promise<{ report: ResumeReport; asFound: boolean } | undefined> => {
    try {
      const passed = await resumeCrashedRunsExcept(graph, { ...resumeOptions, signal: controller.signal }, (run) =>
        behind.has(run),
      );
      stats.passes += 1;
      behind.note(passed.report.results);
      for (const result of passed.report.results) {
        stats[result.outcome] += 1;
        safely(() => onResult?.(result));
      }
      return passed;
    } catch (error) {
      stats.errors += 1;
      log("recovery worker: pass failed: %s", String(error));
      safely(() => onError?.(error));
      return undefined;
    }
  };

  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      const passed = await pass();
      if (controller.signal.aborted) break;
      // More may be waiting: go on at once, unless the pass left every entry it found as it was (runs left alone for
      // this host's clock, threads whose state could not be loaded): the next pass would find the same ones.
      if (!passed?.report.more || passed.asFound) await sleep(intervalMs);
    }
  };
  const done = loop();

  return {
    async stop() {
      stopNow();
      userSignal?.removeEventListener("abort", stopNow);
      await done;
    },
    get stopped() {
      return controller.signal.aborted;
    },
    get stats() {
      return { ...stats };
    },
  };
}

/** Runs a user callback; what it throws is logged, never allowed to break the loop. */
function safely(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    log("recovery worker: callback threw: %s", String(error));
  }
}

/**
 * The runs this worker resumed and saw refused for its host's clock (ClockSkewError: the clock is behind the run's
 * last checkpoint): such a run is handed over at once, and claiming it again on every pass would only fail again
 * and race the workers whose clocks are right. Each is left alone until this host's clock has passed the
 * checkpoint's (the error's behindMs, on a monotonic clock), then forgotten.
 */
class ClockBehindRuns {
  /** [thread, namespace] -> performance.now() from which the run may be claimed again. */
  readonly #until = new Map<string, number>();

  /** Takes in a pass's results; drops the runs whose time has come. */
  note(results: readonly ResumeResult[]): void {
    const now = performance.now();
    for (const [key, until] of this.#until) if (until <= now) this.#until.delete(key);
    for (const result of results) {
      if (result.outcome === "failed" && result.error instanceof ClockSkewError) {
        this.#until.set(runKey(result.run), now + result.error.behindMs + 1);
      }
    }
  }

  has(run: RunRef): boolean {
    const until = this.#until.get(runKey(run));
    return until !== undefined && until > performance.now();
  }
}

function runKey(run: RunRef): string {
  return JSON.stringify([run.threadId, run.checkpointNs]);
}
