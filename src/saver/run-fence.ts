/**
 * Lease fencing of the checkpointer's writes. withRunLease records each run's lease token on its thread before the
 * run starts (raiseRunFence) and hands the token to the saver through the run's config (RUN_FENCE_KEY); put and
 * putWrites pass it to their scripts, which refuse a write whose token is older than the one recorded, atomically
 * with the write (the fence lives in the thread's hash tag, so this holds on Redis Cluster too).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { describeValue, InvalidConfigError, RunLeaseLostError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import type { SaverContext } from "./context.js";

/** Where a leased run's fence travels in config.configurable ("__" keys stay out of checkpoint metadata). */
export const RUN_FENCE_KEY = "__langgraph_redis_run_fence";

/** The method withRunLease calls on a RedisSaver checkpointer to record a run's lease token (see raiseRunFence). */
export const RAISE_RUN_FENCE = Symbol.for("langgraph-redis.raiseRunFence");

/**
 * The method withRunLease and cancelRun call on a RedisSaver checkpointer to refresh or clear a run's live mark on
 * its thread (see markRunLive).
 */
export const MARK_RUN_LIVE = Symbol.for("langgraph-redis.markRunLive");

/**
 * The method withRunLease calls on a RedisSaver checkpointer to remove what a cancelled run wrote (rollback), as
 * that run: deleteForRuns refuses a thread a live run writes, except to the run itself (see deleteForRuns).
 */
export const DELETE_OWN_RUN = Symbol.for("langgraph-redis.deleteOwnRun");

/** A leased run's live mark on its thread: how long it lasts without a refresh, and the run it names. */
export interface RunLive {
  readonly liveMs: number;
  readonly runId: string;
}

export interface RunFence {
  /** keys.runFenceField of the lease: tokens are compared only within one field. */
  readonly field: string;
  readonly token: number;
  /** The leased run (for the error message). */
  readonly threadId: string;
  readonly checkpointNs: string;
}

/** The run fence a config carries, or undefined; InvalidConfigError when it is there but malformed. */
export function readRunFence(config: RunnableConfig | undefined, operation: string): RunFence | undefined {
  const value: unknown = config?.configurable?.[RUN_FENCE_KEY];
  if (value === undefined) return undefined;
  const fence = value as Partial<RunFence> | null;
  if (
    fence === null ||
    typeof fence !== "object" ||
    typeof fence.field !== "string" ||
    fence.field === "" ||
    !Number.isSafeInteger(fence.token) ||
    (fence.token as number) < 1 ||
    typeof fence.threadId !== "string" ||
    typeof fence.checkpointNs !== "string"
  ) {
    throw new InvalidConfigError(
      `${operation}: config.configurable.${RUN_FENCE_KEY} is set by withRunLease and must not be changed, ` +
        `received ${describeValue(value)}`,
    );
  }
  return fence as RunFence;
}

/** The script arguments of a fence: field and token, or "" and 0 for a write that is not fenced. */
export function runFenceArgs(fence: RunFence | undefined): [string, number] {
  return fence ? [fence.field, fence.token] : ["", 0];
}

/** The error for a write refused because a newer lease took the run over. */
export function runFencedError(fence: RunFence, newest: number, operation: string): RunLeaseLostError {
  return new RunLeaseLostError(
    fence.threadId,
    fence.checkpointNs,
    `${operation} refused: the run on thread ${JSON.stringify(fence.threadId)} lost its lease (token ${fence.token}) ` +
      `to a newer run (token ${newest}) that took it over; nothing was written`,
  );
}

/** Throws runFencedError when saverPut or saverPutWrites refused the write for a newer lease token. */
export function checkFenced(
  reply: { newerToken?: number | undefined },
  fence: RunFence | undefined,
  operation: string,
) {
  if (fence && reply.newerToken !== undefined) throw runFencedError(fence, reply.newerToken, operation);
}

/**
 * Records `fence.token` as the newest lease of its field on the thread, so that writes carrying an older token are
 * refused from now on. Throws RunLeaseLostError when a newer token is already recorded.
 */
export async function raiseRunFence(context: SaverContext, fence: RunFence, live?: RunLive): Promise<void> {
  const operation = "withRunLease: starting the run";
  const key = saverThreadKeys(context.keyPrefix, fence.threadId).runFences;
  const args: ScriptArgs<"saverRaiseRunFence"> = live
    ? [fence.field, fence.token, context.ttlMs, live.liveMs, live.runId]
    : [fence.field, fence.token, context.ttlMs];
  const reply = await redisCall(context, { operation, write: true }, (client) =>
    callScript(client, "saverRaiseRunFence", { runFences: key }, args),
  );
  if (!reply.recorded) throw runFencedError(fence, reply.newest, operation);
  await context.durability.afterWrite(key, `withRunLease: the lease fence of thread ${JSON.stringify(fence.threadId)}`);
}

/**
 * Keeps a leased run's live mark on its thread for another `liveMs` (a heartbeat), or removes it (liveMs 0: the run
 * ended). The mark is what deleteForRuns, prune's delete and copyThread look at to leave a thread alone while a live
 * run writes it (include liveRuns). `token` 0 picks the mark by `runId` (a crashed run cancelRun stops). True when
 * there was such a mark.
 */
export async function markRunLive(
  context: SaverContext,
  threadId: string,
  field: string,
  mark: { token: number; liveMs: number; runId: string },
): Promise<boolean> {
  const key = saverThreadKeys(context.keyPrefix, threadId).runFences;
  return redisCall(context, { operation: "withRunLease: the run's live mark", write: true }, (client) =>
    callScript(client, "saverMarkRunLive", { runFences: key }, [field, mark.token, mark.liveMs, mark.runId]),
  );
}
