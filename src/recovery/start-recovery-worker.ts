import { log } from "../log.js";
import { parseOptions } from "../options.js";
import { type RecoveryWorkerOptions, recoveryWorkerOptionsSchema } from "./options.js";
import { resumeCrashedRunsExcept, type StuckRuns } from "./resume-crashed-runs.js";
import type { ResumeReport } from "./types.js";
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
 * `intervalMs` (none when the pass hit `limit` and more may be waiting), until stop() or `signal`. Runs it cannot
 * serve for now are left alone for a while, so they neither fail again at every pass nor hide the runs after them.
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

  const stuck = new LeftAlone(intervalMs);

  const pass = async (): Promise<ResumeReport | undefined> => {
    try {
      const passed = await resumeCrashedRunsExcept(
        graph,
        { ...resumeOptions, signal: controller.signal },
        stuck.members(),
      );
      stats.passes += 1;
      stuck.note(passed.stuck);
      for (const result of passed.report.results) {
        stats[result.outcome] += 1;
        safely(() => onResult?.(result));
      }
      return passed.report;
    } catch (error) {
      stats.errors += 1;
      log("recovery worker: pass failed: %s", String(error));
      safely(() => onError?.(error));
      return undefined;
    }
  };

  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      const report = await pass();
      if (controller.signal.aborted) break;
      if (!report?.more) await sleep(intervalMs);
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

/** Passes (of intervalMs) before a thread whose state could not be loaded is looked at again. */
const UNREADABLE_RETRY_PASSES = 10;

/**
 * The runs this worker leaves alone for now, by lease member (neither listed nor claimed; the other workers still
 * see them): a run whose resume it saw refused for its host's clock (ClockSkewError: the clock is behind the run's
 * last checkpoint), until its clock has passed that checkpoint's (the error's behindMs, on a monotonic clock), as
 * claiming it again would only fail again and race the workers whose clocks are right; a thread whose state could
 * not be loaded, for UNREADABLE_RETRY_PASSES passes, as its entry stays in the index and, with `limit` of them,
 * would hide every run after them.
 */
class LeftAlone {
  /** Lease member -> performance.now() from which it is looked at again. */
  readonly #until = new Map<string, number>();

  constructor(readonly intervalMs: number) {}

  /** Takes in what a pass could not change; forgets the members whose time has come. */
  note(stuck: StuckRuns): void {
    const now = performance.now();
    for (const [member, until] of this.#until) if (until <= now) this.#until.delete(member);
    for (const [member, behindMs] of stuck.clockBehind) this.#until.set(member, now + behindMs + 1);
    for (const member of stuck.unreadable) this.#until.set(member, now + UNREADABLE_RETRY_PASSES * this.intervalMs);
  }

  /** The members left alone now. */
  members(): ReadonlySet<string> {
    const now = performance.now();
    return new Set([...this.#until].flatMap(([member, until]) => (until > now ? [member] : [])));
  }
}
