import { z } from "zod";
import { auditOptionSchema } from "../audit/outbox.js";
import { clientSchema, durationMsSchema, keyPrefixSchema } from "../options.js";
import type { ResumeProgress, ResumeResult } from "./types.js";

const functionSchema = <T>() =>
  z.custom<T>((value) => typeof value === "function", { message: "a function" }) as unknown as z.ZodType<T, T>;

const ownerSchema = z.string().min(1).max(512);

/** How a run started on a busy thread behaves (docs/runs.md). */
export const multitaskStrategySchema = z.enum(["reject", "enqueue", "interrupt", "rollback"]);

export type MultitaskStrategy = z.output<typeof multitaskStrategySchema>;

/** Options of withRunLease(graph, options). */
export const runLeaseOptionsSchema = z
  .strictObject({
    /** The ioredis client (Redis or Cluster) holding the leases; never closed by the library. */
    client: clientSchema,
    /** Prefix of every key. Default "lgr". */
    keyPrefix: keyPrefixSchema,
    /**
     * Names the lease index: runs of graphs with different names never mix, so a recoverer only resumes runs of
     * its own graph. Default: the graph's `name` (`compile({ name })`), else "graph".
     */
    name: z.string().min(1).max(200).optional(),
    /** How long a lease lives without a heartbeat; a run is presumed dead this long after its last one. Default 30 s. */
    leaseMs: durationMsSchema.min(100).default(30_000),
    /** How often a running run renews its lease. Must be below leaseMs. Default leaseMs / 3. */
    heartbeatMs: durationMsSchema.optional(),
    /** Who holds the leases this graph takes (reported by findCrashedRuns). Default "<hostname>/<pid>/<random>". */
    owner: ownerSchema.optional(),
    /** Audit trail (docs/audit.md): lease taken, claimed by a recoverer, lost, and run resumed; also for the
     * recovery functions given this graph. `true`, or `{ agentId }`. Default off. */
    audit: auditOptionSchema.optional(),
    /**
     * What a run started on a thread that already has one in flight (in any process) does: "reject" (default)
     * throws RunLeaseHeldError; "enqueue" waits its turn (FIFO across processes, see enqueueWaitMs); "interrupt" stops the running run (its checkpoints stay) and starts from its last
     * checkpoint; "rollback" stops it, removes what it wrote, then starts. Per run: `configurable.multitask_strategy`.
     */
    multitaskStrategy: multitaskStrategySchema.default("reject"),
    /**
     * "enqueue": how long a run waits for its turn before it leaves the queue and throws RunQueueTimeoutError.
     * Default 5 minutes.
     */
    enqueueWaitMs: durationMsSchema.min(1).default(300_000),
  })
  .refine((o) => o.heartbeatMs === undefined || o.heartbeatMs < o.leaseMs, {
    path: ["heartbeatMs"],
    message: "a number of ms below leaseMs",
  });

export type RunLeaseOptions = z.input<typeof runLeaseOptionsSchema>;

/**
 * Runs a call reads past as if they were not in the lease index (neither inspected nor claimed): each a thread and
 * namespace, such as a CrashedRun or the `run` of a failed result.
 */
const skipSchema = z.array(z.object({ threadId: z.string(), checkpointNs: z.string() })).optional();

/** Options of findCrashedRuns(app, options). */
export const findCrashedRunsOptionsSchema = z.strictObject({
  /** Most expired leases to inspect in one call, oldest expiry first. Default 100. */
  limit: z.number().int().min(1).max(10_000).default(100),
  /**
   * Runs to read past (see skipSchema): those an earlier call could not inspect, a thread whose state cannot be
   * loaded, which otherwise take their places among the `limit` oldest entries at every call.
   */
  skip: skipSchema,
  /**
   * Remove expired entries that have nothing to resume (finished, stopped at an interrupt, or killed before their
   * first checkpoint), so later calls do not inspect them again. Default true.
   */
  prune: z.boolean().default(true),
  /** How many threads' states to load at once. Default 8. */
  inspectConcurrency: z.number().int().min(1).max(256).default(8),
  /** Receives the error of a thread whose state cannot be loaded; without it, findCrashedRuns throws it. */
  onError: functionSchema<(error: unknown, run: { threadId: string; checkpointNs: string }) => void>().optional(),
});

export type FindCrashedRunsOptions = z.input<typeof findCrashedRunsOptionsSchema>;

const resumeShape = {
  /** How many runs to resume at once. Default 4. */
  concurrency: z.number().int().min(1).max(1000).default(4),
  /** Most crashed runs to look at in one pass (see findCrashedRuns `limit`). Default 100. */
  limit: z.number().int().min(1).max(10_000).default(100),
  /** How long a claim lasts before another recoverer may take the run; the resume replaces it with a lease. */
  claimMs: durationMsSchema.min(100).optional(),
  /** Who claims the runs. Default: the leased graph's owner id. */
  owner: ownerSchema.optional(),
  /** Extra RunnableConfig for each resume (callbacks, recursionLimit, tags); thread_id and checkpoint_ns are set. */
  config: z.record(z.string(), z.unknown()).optional(),
};

/** Options of resumeCrashedRuns(app, options). */
export const resumeCrashedRunsOptionsSchema = z.strictObject({
  ...resumeShape,
  /**
   * Runs to read past (see skipSchema): those an earlier call could not change (its `failed` results: a thread
   * whose state cannot be loaded, a run refused for this host's clock), which otherwise take their places among the
   * `limit` oldest entries at every call. A startRecoveryWorker keeps such runs aside by itself.
   */
  skip: skipSchema,
  /** Stops claiming further runs; runs already resumed finish (interrupting them would only crash them again). */
  signal: z.instanceof(AbortSignal).optional(),
  /** Called after each run is settled, with the counts so far. */
  onProgress: functionSchema<(progress: ResumeProgress) => void>().optional(),
});

export type ResumeCrashedRunsOptions = z.input<typeof resumeCrashedRunsOptionsSchema>;

/** Options of startRecoveryWorker(app, options). */
export const recoveryWorkerOptionsSchema = z.strictObject({
  ...resumeShape,
  /** Pause between passes when the last one found nothing more to do. Default 5 s. */
  intervalMs: durationMsSchema.default(5_000),
  /** Stops the worker, like stop(). */
  signal: z.instanceof(AbortSignal).optional(),
  /** Called with each settled run. */
  onResult: functionSchema<(result: ResumeResult) => void>().optional(),
  /** Called when a whole pass fails (for example Redis is unreachable); the worker tries again after intervalMs. */
  onError: functionSchema<(error: unknown) => void>().optional(),
});

export type RecoveryWorkerOptions = z.input<typeof recoveryWorkerOptionsSchema>;

/** Options of cancelRun(app, threadId, options). */
export const cancelRunOptionsSchema = z.strictObject({
  /**
   * "interrupt" (default): the run stops, its checkpoints stay, the thread's status becomes "interrupted".
   * "rollback": the run stops and every checkpoint it wrote is removed; the status becomes "idle".
   */
  action: z.enum(["interrupt", "rollback"]).default("interrupt"),
  /** The checkpoint namespace of the run (its lease). Default "" (the root graph). */
  checkpointNs: z.string().default(""),
  /**
   * How long to wait for the run to stop. Default: the leased graph's leaseMs plus two heartbeats, the longest a
   * live run takes to see the request (its next heartbeat) or a dead one takes to be found expired.
   */
  waitMs: durationMsSchema.optional(),
  /** How often to look whether the run has stopped. Default 100 ms. */
  pollMs: durationMsSchema.min(1).default(100),
});

export type CancelRunOptions = z.input<typeof cancelRunOptionsSchema>;

/** Options of drainRuns(app, options). */
export const drainRunsOptionsSchema = z.strictObject({
  /** How long to wait for the runs in flight to reach a step boundary. Default 30 s. */
  timeoutMs: durationMsSchema.default(30_000),
  /** Passed to RunControl.requestDrain (shown on GraphDrained). Default "drain". */
  reason: z.string().max(200).default("drain"),
});

export type DrainRunsOptions = z.input<typeof drainRunsOptionsSchema>;
