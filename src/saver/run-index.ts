/**
 * The run index behind deleteForRuns. A checkpoint's run id is its metadata run_id or, as LangGraph.js passes it,
 * the run_id in the metadata of the config put() receives (`graph.invoke(input, { configurable, metadata:
 * { run_id } })`). put writes it on a line of the checkpoint's refs (runRefsLine) and saverPut counts the checkpoint
 * in the thread's byRun index, one member per (run, namespace), in the same script (include runIndex); the run's
 * hash of thread ids (its own slot) says which threads to look in: on a standalone server saverPut updates it too;
 * on a cluster saverRecordRun writes it before the put, once per (run, thread) and process while the record is
 * fresh. When a thread loses the last checkpoint of a run (retention, prune, deleteThread), the script that removed
 * it names the run, and dropThreadFromRuns takes the thread out of the run's hash, so the hashes of old runs do not
 * outlive what they point at.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { saverRunThreadsKey } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { unescapePart } from "./codec.js";
import type { SaverContext } from "./context.js";
import { TRIM_GRACE_MS } from "./thread-index.js";
import { requireWellFormedInput } from "./well-formed.js";

/** Most (run, thread) pairs one saver remembers as recorded; past it the memory starts over. */
const RECORDED_RUNS_LIMIT = 10_000;

/** The run id a checkpoint is indexed under, or undefined (no run id, or one that is not a non-empty string). */
export function runIdOf(config: RunnableConfig, metadata: CheckpointMetadata | undefined): string | undefined {
  const fromMetadata = (metadata as Record<string, unknown> | undefined)?.run_id;
  const fromConfig = (config?.metadata as Record<string, unknown> | undefined)?.run_id;
  const runId = typeof fromMetadata === "string" && fromMetadata !== "" ? fromMetadata : fromConfig;
  if (typeof runId !== "string" || runId === "") return undefined;
  requireWellFormedInput({ run_id: runId }, "RedisSaver.put");
  return runId;
}

const recorded = new WeakMap<SaverContext, Map<string, number>>();

/**
 * Cluster only: records the thread in the run's hash unless this process did so recently enough (or `force`);
 * true when it wrote.
 */
export async function recordRunThread(
  context: SaverContext,
  runId: string,
  threadId: string,
  force = false,
): Promise<boolean> {
  let seen = recorded.get(context);
  if (seen === undefined) {
    seen = new Map();
    recorded.set(context, seen);
  }
  const pair = `${runId}\0${threadId}`;
  const at = seen.get(pair);
  // Without a TTL the record never expires; with one, it is renewed after half of it has passed (a monotonic clock: a
  // wall clock set back would put the renewal off by as much).
  if (!force && at !== undefined && (context.ttlMs === 0 || performance.now() - at < context.ttlMs / 2)) return false;
  const key = saverRunThreadsKey(context.keyPrefix, runId);
  await redisCall(context, { operation: "RedisSaver.put: run index", write: true, keys: [key] }, (client) =>
    callScript(client, "saverRecordRun", { runThreads: key }, [threadId, context.ttlMs, TRIM_GRACE_MS]),
  );
  if (seen.size >= RECORDED_RUNS_LIMIT) seen.clear();
  seen.set(pair, performance.now());
  return true;
}

/** Forgets the local records of these runs (deleteForRuns removed them), so a later put records them again. */
export function forgetRecordedRuns(context: SaverContext, runIds: readonly string[]): void {
  const seen = recorded.get(context);
  if (seen === undefined) return;
  const runs = new Set(runIds);
  for (const pair of seen.keys()) if (runs.has(pair.slice(0, pair.indexOf("\0")))) seen.delete(pair);
}

/** Run hashes updated at once by dropThreadFromRuns (each may live on another cluster node). */
const DROP_BATCH = 64;

/**
 * Takes the thread out of the hashes of these runs (escaped ids, as the removing script named them: the thread
 * holds no checkpoint of theirs any more); a hash left empty goes. This process will record the pair again if the
 * run writes the thread later. Runs after the removal, in other slots: a failure leaves a stale entry, which
 * deleteForRuns only reads in vain.
 */
export async function dropThreadFromRuns(
  context: SaverContext,
  threadId: string,
  escapedRunIds: readonly string[],
): Promise<void> {
  if (escapedRunIds.length === 0) return;
  const runIds = escapedRunIds.map(unescapePart);
  const seen = recorded.get(context);
  if (seen !== undefined) for (const runId of runIds) seen.delete(`${runId}\0${threadId}`);
  for (let from = 0; from < runIds.length; from += DROP_BATCH) {
    await Promise.all(
      runIds.slice(from, from + DROP_BATCH).map((runId) => {
        const key = saverRunThreadsKey(context.keyPrefix, runId);
        return redisCall(context, { operation: "RedisSaver: run index", write: true, keys: [key] }, (client) =>
          client.hdel(key, threadId),
        );
      }),
    );
  }
}
