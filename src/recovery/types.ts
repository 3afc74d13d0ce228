/**
 * The types the recovery modules share (and the public ones they return), in one module that imports no code, so
 * options, finding, resuming and the worker can all refer to them without importing each other.
 */
import type { RunnableConfig } from "@langchain/core/runnables";

/** Who holds a run's entry in the lease index: a running run's lease, or a recoverer's claim. */
export interface LeaseHolder {
  /** Token issued when the lease or claim was taken; tokens of one graph only ever increase. */
  readonly token: number;
  readonly kind: "lease" | "claim";
  /** When the lease or claim was taken (Unix ms, Redis server clock). */
  readonly sinceMs: number;
  /** The owner id given by the process that took it (default: hostname/pid/random). */
  readonly owner: string;
}

/** How a run's lease is held: who holds it, for how long, and how often it is renewed. */
export interface LeaseTimings {
  readonly owner: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
}

/** One run: a thread and checkpoint namespace. */
export interface RunRef {
  readonly threadId: string;
  readonly checkpointNs: string;
}

/** A run whose process died with work pending: its lease expired and its latest checkpoint still has tasks to run. */
export interface CrashedRun {
  readonly threadId: string;
  readonly checkpointNs: string;
  /** The latest checkpoint, which a resume continues from. */
  readonly checkpointId: string;
  /**
   * Nodes of the interrupted step that had not stored their writes (StateSnapshot.next): they run again on resume.
   * Empty when every task of the step had stored its writes but the next checkpoint was not written yet.
   */
  readonly pendingNodes: readonly string[];
  /** Nodes of the interrupted step whose writes were stored: a resume applies them without running them again. */
  readonly finishedNodes: readonly string[];
  /** When the lease expired (Redis server clock). */
  readonly leaseExpiredAt: Date;
  /** Owner id of the process (or recoverer) that held the lease when it died. */
  readonly heldBy: string;
  /** Whether that was a running run's lease or a recoverer's claim that was never turned into a run. */
  readonly heldAs: LeaseHolder["kind"];
  /** Token of the expired lease; a claim succeeds only while the run is still held under it. */
  readonly leaseToken: number;
  /** The config that resumes the run: `graph.invoke(null, run.config)`. */
  readonly config: RunnableConfig;
}

/** Why an expired entry is not a crashed run. */
export type NotCrashedReason = "finished" | "interrupted" | "no-checkpoint";

/** Why a crashed run was not resumed by this call. */
export type SkipReason =
  /** Another recoverer claimed it first, or the run was started again. */
  | "claimed-elsewhere"
  /** Its holder renewed the lease after all: it is alive. */
  | "alive"
  /** It left the index (resumed and finished elsewhere, or released). */
  | "gone"
  /** The signal was aborted before it was claimed. */
  | "stopped";

/** What happened to one crashed run. */
export type ResumeResult =
  | { readonly outcome: "resumed"; readonly run: CrashedRun; readonly durationMs: number }
  | { readonly outcome: "failed"; readonly run: CrashedRun; readonly error: unknown; readonly durationMs: number }
  | { readonly outcome: "skipped"; readonly run: CrashedRun; readonly reason: SkipReason }
  /** The thread's state could not be loaded, so it could not be inspected (nothing was claimed). */
  | {
      readonly outcome: "failed";
      readonly run: { readonly threadId: string; readonly checkpointNs: string };
      readonly error: unknown;
      readonly durationMs: 0;
    };

export interface ResumeProgress {
  /** Crashed runs found by this pass (plus threads that could not be inspected). */
  readonly total: number;
  readonly done: number;
  readonly resumed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Resumes running right now. */
  readonly running: number;
}

export interface ResumeReport extends ResumeProgress {
  readonly results: readonly ResumeResult[];
  /**
   * True when the lease index had more expired entries than `limit` and a call again can find others: call again for
   * the rest. False when every entry this call found was one it could not change (a thread whose state could not be
   * loaded, a run refused for this host's clock), which a call again would find again, unless they are passed
   * in its `skip` option (the runs of the `failed` results).
   */
  readonly more: boolean;
}
