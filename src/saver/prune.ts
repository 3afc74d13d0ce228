/**
 * prune(threadIds, options): trims existing threads the way the `retention` option trims threads as they are
 * written (src/lua/include/retention.lua), or deletes them; Python's prune(thread_ids, strategy). Each thread is
 * trimmed by a series of saverPrune calls, one namespace at a time and a bounded number of checkpoints per call, so
 * no script holds the server long; every call is atomic, so an interrupted prune leaves every kept checkpoint
 * readable and calling it again finishes the job. Pinned threads are left alone.
 *
 * Blobs: a call that trims a namespace still holding more than BLOB_CHECK_LIMIT checkpoints (blob-check.ts: a long
 * thread, trimmed from its oldest end) leaves the blobs it made unneeded to a sweep (saverSweepBlobs, include
 * blobSweep), one bounded page of the blobs hash per call once the namespaces are trimmed: checking them at each step
 * would read every remaining record each time, a cost that grows with the square of the history.
 *
 * Run fences: trimming (keepLast >= 1) goes ahead on a thread a live leased run is writing, as the retention option
 * does during runs: the newest checkpoints and everything they need stay. Deleting (strategy "delete") is not done
 * under a live run (its history and lease fence would go while it writes): such a thread is left alone and listed
 * in `leased`. With audit on, each call that removed something records a prune event.
 */
import { z } from "zod";
import { withAuditContext } from "../audit/outbox.js";
import { saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { parseOptions } from "../options.js";
import { redisCall } from "../redis-call.js";
import { BLOB_CHECK_LIMIT, type BlobCheckThread } from "./blob-check.js";
import { forgetHistories, type SaverContext } from "./context.js";
import { dropThreadFromRuns } from "./run-index.js";
import { forgetThread } from "./thread-index.js";
import { requireIdList } from "./well-formed.js";

/** Most checkpoints one saverPrune call removes. */
export const PRUNE_MAX_DELETES = 500;
/** Most records and index entries one saverPrune call reads (a kept checkpoint's ancestor walk counts here). */
export const PRUNE_MAX_VISITS = 20_000;
/** Blobs one saverSweepBlobs call asks HSCAN for, at least and at most. */
const SWEEP_PAGE_MIN = 500;
const SWEEP_PAGE_MAX = 5_000;

export const pruneOptionsSchema = z
  .strictObject({
    /** Keep the newest keepLast checkpoints of each namespace (and what they need). */
    keepLast: z.number().int().min(1).max(1_000_000).optional(),
    /** Python's strategies: "keep_latest" = keepLast 1 (the default); "delete" removes the threads. */
    strategy: z.enum(["keep_latest", "delete"]).optional(),
  })
  .refine((options) => options.keepLast === undefined || options.strategy === undefined, {
    message: "either keepLast or strategy, not both",
  });

export type PruneOptions = z.input<typeof pruneOptionsSchema>;

export interface PruneResult {
  /** Checkpoints removed, over every thread. */
  checkpoints: number;
  /** Pending writes removed with them. */
  writes: number;
  /** Blobs (channel values) nothing kept needed any more. */
  blobs: number;
  /** Threads left alone because they are pinned. */
  pinned: string[];
  /** strategy "delete": threads left alone because a live leased run (withRunLease) is writing them. */
  leased: string[];
  /**
   * Threads of which one namespace could not be trimmed within one call's work bound (a kept checkpoint whose
   * DeltaChannel values lean on more than PRUNE_MAX_VISITS ancestors); what could be trimmed was.
   */
  incomplete: string[];
}

export async function pruneThreads(
  context: SaverContext,
  threadIds: readonly string[],
  options: PruneOptions | undefined,
  operation = "RedisSaver.prune",
): Promise<PruneResult> {
  requireIdList(threadIds, "thread id", operation);
  const parsed = parseOptions(pruneOptionsSchema, options, operation);
  const keepLast = parsed.strategy === "delete" ? 0 : (parsed.keepLast ?? 1);
  const total: PruneResult = { checkpoints: 0, writes: 0, blobs: 0, pinned: [], leased: [], incomplete: [] };
  for (const threadId of new Set(threadIds)) {
    const outcome = await pruneThread(context, threadId, keepLast, operation);
    total.checkpoints += outcome.checkpoints;
    total.writes += outcome.writes;
    total.blobs += outcome.blobs;
    if (outcome.pinned) total.pinned.push(threadId);
    if (outcome.leased) total.leased.push(threadId);
    if (outcome.incomplete) total.incomplete.push(threadId);
  }
  return total;
}

/** Trims (keepLast >= 1) or deletes (0) one thread, namespace after namespace. */
export async function pruneThread(
  context: SaverContext,
  threadId: string,
  keepLast: number,
  operation: string,
): Promise<{
  checkpoints: number;
  writes: number;
  blobs: number;
  pinned: boolean;
  leased: boolean;
  incomplete: boolean;
}> {
  const keys = saverThreadKeys(context.keyPrefix, threadId);
  const result = { checkpoints: 0, writes: 0, blobs: 0, pinned: false, leased: false, incomplete: false };
  const audit = context.audit;
  const outbox = audit ? await audit.stream(keys.checkpoints) : undefined;
  const auditContext = { threadId, agent: audit?.agentId, operation };
  // Blobs this process leans on as delta bases may go: the thread's next write starts afresh.
  context.deltas?.forget(threadId);
  forgetHistories(context, threadId);
  let ns = "";
  let sweep = false;
  for (;;) {
    const args: [number, string, number, number, number] = [
      keepLast,
      ns,
      PRUNE_MAX_DELETES,
      PRUNE_MAX_VISITS,
      context.blobCheckLimit ?? BLOB_CHECK_LIMIT,
    ];
    const step = await redisCall(context, { operation, write: true, keys: keys.all }, (client) =>
      outbox
        ? callScript(client, "saverPrune", { ...keys, outbox }, withAuditContext(args, auditContext))
        : callScript(client, "saverPrune", keys, args),
    );
    if (step.pinned) return { ...result, pinned: true };
    if (step.leased) return { ...result, leased: true };
    result.checkpoints += step.checkpoints;
    result.writes += step.writes;
    result.blobs += step.blobs;
    await dropThreadFromRuns(context, threadId, step.forgottenRuns);
    if (keepLast === 0) {
      await forgetThread(context, threadId);
      return result;
    }
    sweep = step.sweep;
    // More to do in this namespace, and the call got somewhere: go on with it.
    if (step.more && step.checkpoints > 0) continue;
    if (step.more) result.incomplete = true;
    if (step.nextNs === undefined) break;
    ns = step.nextNs;
  }
  if (sweep) result.blobs += await sweepBlobs(context, { keys, outbox, auditContext, operation }, keepLast);
  return result;
}

/**
 * The blob sweep of a thread marked for it (see the module comment): pages through its blobs hash until the pass
 * ends. Returns the blobs deleted.
 */
async function sweepBlobs(context: SaverContext, thread: BlobCheckThread, keepLast: number): Promise<number> {
  const { keys, outbox, auditContext, operation } = thread;
  let cursor = "0";
  let count = SWEEP_PAGE_MIN;
  let blobs = 0;
  do {
    const args: [string, number, number, number] = [cursor, count, PRUNE_MAX_VISITS, keepLast];
    const page = await redisCall(context, { operation, write: true, keys: keys.all }, (client) =>
      outbox
        ? callScript(client, "saverSweepBlobs", { ...keys, outbox }, withAuditContext(args, auditContext))
        : callScript(client, "saverSweepBlobs", keys, args),
    );
    blobs += page.blobs;
    cursor = page.cursor;
    // Every call reads the records of the namespaces it checks once, whatever its page holds: a page of four blobs
    // per such record keeps that read a part of the call's work, not the whole of it.
    count = Math.min(SWEEP_PAGE_MAX, Math.max(SWEEP_PAGE_MIN, 4 * page.records));
  } while (cursor !== "0");
  return blobs;
}
