/**
 * Writes to the thread registry: one saverRegisterThread script in the thread's bucket creates the thread's record
 * or updates its status and metadata, keeping the index members search ranges over in step. Called by put() at the
 * first checkpoint of a thread and of each run (it lifts the indexed fields from the run's config metadata), by the
 * run leases (status), and by threads.update.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { threadBucket, threadRegistryKeys } from "../../keys.js";
import { log } from "../../log.js";
import { callScript } from "../../lua/index.js";
import { redisCall } from "../../redis-call.js";
import type { SaverContext } from "../context.js";
import { TRIM_GRACE_MS } from "../thread-index.js";
import { decodeThreadRecord, metadataPairs, type ThreadInfo, type ThreadStatus } from "./record.js";

/** The method withRunLease calls on a RedisSaver checkpointer to record a leased run's thread status. */
export const SET_THREAD_STATUS = Symbol.for("langgraph-redis.setThreadStatus");

export interface RegisterChange {
  /** The new status; undefined keeps it ("idle" for a new thread). */
  readonly status?: ThreadStatus | undefined;
  /** Metadata fields to set (null or undefined removes one). */
  readonly metadata?: Record<string, unknown> | undefined;
  /**
   * true: the thread was written, its updated time moves on here; false: only the record changes; "byWrite": the
   * caller's own write script touches the cross-thread index (sent concurrently), so this script does not.
   */
  readonly touch: boolean | "byWrite";
}

/** Creates or updates the thread's registry entry in one script; returns the thread as stored. */
export async function registerThread(
  context: SaverContext,
  threadId: string,
  change: RegisterChange,
  operation: string,
): Promise<ThreadInfo> {
  const indexed = context.indexedMetadata;
  const pairs = metadataPairs(change.metadata ?? {}, new Set(indexed), operation);
  const keys = threadRegistryKeys(context.keyPrefix, threadBucket(threadId));
  const reply = await redisCall(
    context,
    { operation, write: true, keys: [keys.updated, keys.records, keys.index] },
    (client) =>
      callScript(client, "saverRegisterThread", keys, [
        threadId,
        context.ttlMs,
        TRIM_GRACE_MS,
        change.status ?? "",
        change.touch === "byWrite" ? "w" : change.touch ? "1" : "0",
        indexed.length,
        ...indexed,
        ...pairs,
      ]),
  );
  return decodeThreadRecord(threadId, reply.record, reply.updatedMs, keys.records);
}

/**
 * Whether a put() starts a thread or a run, so the registry is written beside it: the thread's first checkpoint
 * (no parent), or the first of a run (source "input"), or a fork / state update, in the root namespace.
 */
export function putRegisters(ns: string, parentId: string | undefined, metadata: CheckpointMetadata | undefined) {
  if (ns !== "") return false;
  const source = (metadata as { source?: unknown } | undefined)?.source;
  return parentId === undefined || source === "input" || source === "fork" || source === "update";
}

/**
 * The indexed fields a run carries: from its config metadata (`invoke(input, { metadata: { user_id } })`), else
 * the checkpoint metadata. Values that are not strings, finite numbers or booleans are left out.
 */
export function liftedMetadata(
  context: SaverContext,
  config: RunnableConfig,
  metadata: CheckpointMetadata | undefined,
): Record<string, unknown> {
  const lifted: Record<string, unknown> = {};
  const fromConfig = (config?.metadata ?? {}) as Record<string, unknown>;
  const fromCheckpoint = (metadata ?? {}) as Record<string, unknown>;
  for (const field of context.indexedMetadata) {
    const value = Object.hasOwn(fromConfig, field) ? fromConfig[field] : fromCheckpoint[field];
    if (
      typeof value === "string" ||
      typeof value === "boolean" ||
      (typeof value === "number" && Number.isFinite(value))
    ) {
      lifted[field] = value;
    }
  }
  return lifted;
}

/** registerThread for the write path: never throws (a failure leaves the registry stale, like the index). */
export async function registerQuietly(context: SaverContext, threadId: string, change: RegisterChange): Promise<void> {
  try {
    await registerThread(context, threadId, change, "RedisSaver: thread registry");
  } catch (error) {
    log("saver: thread registry not updated for a thread (%s)", String(error));
  }
}
