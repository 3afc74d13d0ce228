/**
 * The run index behind deleteForRuns. A checkpoint's run id is its metadata run_id or, as LangGraph.js passes it,
 * the run_id in the metadata of the config put() receives (`graph.invoke(input, { configurable, metadata:
 * { run_id } })`). put writes it on a line of the checkpoint's refs (runRefsLine) and saverPut counts the checkpoint
 * in the thread's byRun index, one member per (run, namespace), in the same script (include runIndex); the run's
 * hash of thread ids (its own slot) says which threads to look in: on a standalone server saverPut updates it too;
 * on a cluster saverRecordRun writes it before the put, once per (run, thread) and process while the record is
 * fresh.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { saverRunThreadsKey } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
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

/** Cluster only: records the thread in the run's hash unless this process did so recently enough. */
export async function recordRunThread(context: SaverContext, runId: string, threadId: string): Promise<void> {
  let seen = recorded.get(context);
  if (seen === undefined) {
    seen = new Map();
    recorded.set(context, seen);
  }
  const pair = `${runId}\0${threadId}`;
  const at = seen.get(pair);
  // Without a TTL the record never expires; with one, it is renewed after half of it has passed.
  if (at !== undefined && (context.ttlMs === 0 || Date.now() - at < context.ttlMs / 2)) return;
  const key = saverRunThreadsKey(context.keyPrefix, runId);
  await redisCall(context, { operation: "RedisSaver.put: run index", write: true, keys: [key] }, (client) =>
    callScript(client, "saverRecordRun", { runThreads: key }, [threadId, context.ttlMs, TRIM_GRACE_MS]),
  );
  if (seen.size >= RECORDED_RUNS_LIMIT) seen.clear();
  seen.set(pair, Date.now());
}

/** Forgets the local records of these runs (deleteForRuns removed them), so a later put records them again. */
export function forgetRecordedRuns(context: SaverContext, runIds: readonly string[]): void {
  const seen = recorded.get(context);
  if (seen === undefined) return;
  const runs = new Set(runIds);
  for (const pair of seen.keys()) if (runs.has(pair.slice(0, pair.indexOf("\0")))) seen.delete(pair);
}
