/**
 * deleteForRuns(runIds): removes every checkpoint the given runs wrote (by run id, see run-index.ts), with the
 * pending writes stored against those checkpoints and the blobs nothing else needs; Python's delete_for_runs.
 *
 * Each run's hash (or the SET of an earlier release) names the threads it wrote to; each thread is cleaned by one
 * script (saverDeleteForRuns, atomic per thread); then the threads are taken out of the runs' lists. Interrupted
 * half-way, it leaves some threads cleaned and the runs' lists intact, so calling it again finishes the job.
 *
 * Run fences: a thread that a live leased run is writing (withRunLease's live mark, include liveRuns) is refused as
 * a whole, atomically with the check: removing checkpoints under a run that goes on writing would leave its next
 * checkpoint without its parent, or delete its lease fence with the emptied thread. The one exception is the run
 * itself (`fence`): a cancelled run rolling back what it wrote while it still holds its lease. The other threads
 * are cleaned; the refused ones stay in the runs' lists (calling again once the run ended finishes the job) and
 * ThreadLeasedError names them (`error.threads`).
 *
 * Blobs: a namespace left with more than BLOB_CHECK_LIMIT checkpoints has its blob check made in pages after the
 * thread's script (blob-check.ts), so no script reads a long history at once.
 *
 * Audit: each thread's script records a deleteForRuns event when it removed something (run ids in its context), and
 * so does the last page of a blob check that deleted blobs.
 */
import { withAuditContext } from "../audit/outbox.js";
import { ThreadLeasedError } from "../errors.js";
import { saverLegacyRunThreadsKey, saverRunThreadsKey, saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { BLOB_CHECK_LIMIT, checkDeferredBlobs } from "./blob-check.js";
import { escapePart } from "./codec.js";
import { forgetHistories, type SaverContext } from "./context.js";
import { type RunFence, runFenceArgs } from "./run-fence.js";
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

/**
 * `fence`: the caller is the leased run it names (withRunLease rolling back a cancelled run), which may remove
 * what it wrote on its own thread although its lease is live.
 */
export async function deleteForRuns(
  context: SaverContext,
  runIds: readonly string[],
  fence?: RunFence,
): Promise<DeleteForRunsResult> {
  const operation = "RedisSaver.deleteForRuns";
  requireIdList(runIds, "run id", operation);
  const runs = [...new Set(runIds)];
  const total: DeleteForRunsResult = { checkpoints: 0, writes: 0, blobs: 0 };
  if (runs.length === 0) return total;

  // Each run's threads: its hash, and the set earlier releases kept (same slot), until nothing is left in it.
  const threadsOfRun = await Promise.all(
    runs.map(async (runId) => {
      const key = saverRunThreadsKey(context.keyPrefix, runId);
      const legacy = saverLegacyRunThreadsKey(context.keyPrefix, runId);
      const [threads, legacyThreads] = await Promise.all([
        redisCall(context, { operation, write: false, keys: [key] }, (client) => client.hkeys(key)),
        redisCall(context, { operation, write: false, keys: [legacy] }, (client) => client.smembers(legacy)),
      ]);
      return [...new Set([...threads, ...legacyThreads])];
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

  const refused: ThreadLeasedError[] = [];
  await Promise.all(
    [...runsOfThread].map(async ([threadId, threadRuns]) => {
      const keys = saverThreadKeys(context.keyPrefix, threadId);
      // Blobs this process may lean on as delta bases can go: the next write of the thread starts afresh.
      context.deltas?.forget(threadId);
      const args: ScriptArgs<"saverDeleteForRuns"> = [
        ...runFenceArgs(fence?.threadId === threadId ? fence : undefined),
        context.blobCheckLimit ?? BLOB_CHECK_LIMIT,
        ...threadRuns.map(escapePart),
      ];
      const audit = context.audit;
      const outbox = audit ? await audit.stream(keys.checkpoints) : undefined;
      const auditContext = { threadId, runIds: threadRuns, agent: audit?.agentId, rollback: fence && true };
      const reply = await redisCall(context, { operation, write: true, keys: keys.all }, (client) =>
        outbox
          ? callScript(client, "saverDeleteForRuns", { ...keys, outbox }, withAuditContext(args, auditContext))
          : callScript(client, "saverDeleteForRuns", keys, args),
      );
      // Once removed: a load that read the thread meanwhile must not hold the ancestors this took away.
      forgetHistories(context, threadId);
      if (reply.liveRuns) {
        refused.push(new ThreadLeasedError(threadId, reply.liveRuns, operation));
        return;
      }
      total.checkpoints += reply.checkpoints;
      total.writes += reply.writes;
      total.blobs += reply.blobs;
      if (reply.deferred.length > 0) {
        total.blobs += await checkDeferredBlobs(context, { keys, outbox, auditContext, operation }, reply.deferred);
      }
    }),
  );
  const refusedThreads = new Set(refused.map((error) => error.threadId));
  await Promise.all(
    runs.map((runId, i) => {
      const threads = (threadsOfRun[i] ?? []).filter((threadId) => !refusedThreads.has(threadId));
      if (threads.length === 0) return undefined;
      const key = saverRunThreadsKey(context.keyPrefix, runId);
      const legacy = saverLegacyRunThreadsKey(context.keyPrefix, runId);
      return Promise.all([
        redisCall(context, { operation, write: true, keys: [key] }, (client) => client.hdel(key, ...threads)),
        redisCall(context, { operation, write: true, keys: [legacy] }, (client) => client.srem(legacy, ...threads)),
      ]);
    }),
  );
  forgetRecordedRuns(context, runs);
  if (refused.length === 1) throw refused[0];
  if (refused.length > 1) {
    refused.sort((a, b) => (a.threadId < b.threadId ? -1 : a.threadId > b.threadId ? 1 : 0));
    const [first, ...others] = refused as [ThreadLeasedError, ...ThreadLeasedError[]];
    throw new ThreadLeasedError(first.threadId, first.runIds, operation, others);
  }
  return total;
}
