/**
 * deleteForRuns(runIds): removes every checkpoint the given runs wrote (by run id, see run-index.ts), with the
 * pending writes stored against those checkpoints and the blobs nothing else needs; Python's delete_for_runs.
 *
 * Each run's SET names the threads it wrote to; each thread is cleaned by one script (saverDeleteForRuns, atomic per
 * thread); then the threads are taken out of the runs' sets. Interrupted half-way, it leaves some threads cleaned
 * and the runs' sets intact, so calling it again finishes the job.
 */
import { saverRunThreadsKey, saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { escapePart } from "./codec.js";
import type { SaverContext } from "./context.js";
import { forgetRecordedRuns } from "./run-index.js";
import { requireIdList } from "./well-formed.js";

export interface DeleteForRunsResult {
  /** Checkpoints removed, over every thread. */
  checkpoints: number;
  /** Pending writes removed with them. */
  writes: number;
  /** Blobs (channel values) no remaining checkpoint needed. */
  blobs: number;
}

export async function deleteForRuns(context: SaverContext, runIds: readonly string[]): Promise<DeleteForRunsResult> {
  const operation = "RedisSaver.deleteForRuns";
  requireIdList(runIds, "run id", operation);
  const runs = [...new Set(runIds)];
  const total: DeleteForRunsResult = { checkpoints: 0, writes: 0, blobs: 0 };
  if (runs.length === 0) return total;

  const threadsOfRun = await Promise.all(
    runs.map((runId) => {
      const key = saverRunThreadsKey(context.keyPrefix, runId);
      return redisCall(context, { operation, write: false, keys: [key] }, (client) => client.smembers(key));
    }),
  );
  const runsOfThread = new Map<string, string[]>();
  runs.forEach((runId, i) => {
    for (const threadId of threadsOfRun[i] ?? []) {
      const list = runsOfThread.get(threadId) ?? [];
      list.push(runId);
      runsOfThread.set(threadId, list);
    }
  });

  await Promise.all(
    [...runsOfThread].map(async ([threadId, threadRuns]) => {
      const keys = saverThreadKeys(context.keyPrefix, threadId);
      // Blobs this process may lean on as delta bases can go: the next write of the thread starts afresh.
      context.deltas?.forget(threadId);
      const { checkpoints, writes, blobs } = await redisCall(
        context,
        { operation, write: true, keys: keys.all },
        (client) => callScript(client, "saverDeleteForRuns", keys, threadRuns.map(escapePart)),
      );
      total.checkpoints += checkpoints;
      total.writes += writes;
      total.blobs += blobs;
    }),
  );
  await Promise.all(
    runs.map((runId, i) => {
      const threads = threadsOfRun[i] ?? [];
      if (threads.length === 0) return undefined;
      const key = saverRunThreadsKey(context.keyPrefix, runId);
      return redisCall(context, { operation, write: true, keys: [key] }, (client) => client.srem(key, ...threads));
    }),
  );
  forgetRecordedRuns(context, runs);
  return total;
}
