/**
 * The check of which blobs removed checkpoints leave unneeded, on long namespaces. Telling an unneeded blob from a
 * needed one means reading every remaining checkpoint of its namespace (any of them, a fork included, may point at
 * it, or at a delta leaning on it): a few microseconds per checkpoint, so about a second of server time at 100,000.
 * Done inside the removing script only while the namespace keeps at most BLOB_CHECK_LIMIT checkpoints; beyond that:
 * - prune leaves its blobs to the sweep (saverSweepBlobs, prune.ts), which reads the short namespace it leaves;
 * - deleteForRuns, which leaves a namespace as long as it was, gets the candidates back and reads the namespace in
 *   pages here (saverCheckBlobs): every page drops the candidates its checkpoints need, the last one deletes the rest.
 */
import { withAuditContext } from "../audit/outbox.js";
import type { saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import type { SaverContext } from "./context.js";

/** A removal leaves the blob check to pages when more checkpoints than this stay in the namespace. */
export const BLOB_CHECK_LIMIT = 1_000;
/** Checkpoints one saverCheckBlobs page reads, at least and at most. */
const CHECK_PAGE_MIN = 1_000;
const CHECK_PAGE_MAX = 4_000;
/** Passes over a namespace whose count changes behind them before its candidates are left to prune's sweep. */
const CHECK_PASSES = 3;

/** The thread a check runs on, as the removing operation built it. */
export interface BlobCheckThread {
  keys: ReturnType<typeof saverThreadKeys>;
  outbox: string | undefined;
  auditContext: Parameters<typeof withAuditContext>[1];
  operation: string;
}

/** One namespace left to the pages: its name and candidate blob fields, as the removing script returned them. */
export interface DeferredBlobCheck {
  ns: Buffer;
  candidates: Buffer[];
}

/**
 * Checks the deferred namespaces one after another; returns the blobs deleted. The last namespace's end takes this
 * call's count back from the thread's "d<n>" mark; a pass that cannot end (see saverCheckBlobs.lua) leaves it, and so
 * its candidates to the thread's next prune.
 */
export async function checkDeferredBlobs(
  context: SaverContext,
  thread: BlobCheckThread,
  deferred: readonly DeferredBlobCheck[],
): Promise<number> {
  let removed = 0;
  let settled = true;
  for (const [i, { ns, candidates }] of deferred.entries()) {
    const last = settled && i === deferred.length - 1;
    const outcome = await checkNamespace(context, thread, ns, candidates, last);
    if (outcome < 0) settled = false;
    else removed += outcome;
  }
  return removed;
}

/** One namespace: pages until its end; the blobs deleted, or -1 when every pass found the namespace changed. */
async function checkNamespace(
  context: SaverContext,
  thread: BlobCheckThread,
  ns: Buffer,
  candidates: readonly Buffer[],
  last: boolean,
): Promise<number> {
  const { keys, outbox, auditContext, operation } = thread;
  // Fields as latin1 text: one character per byte, so a field's bytes come back unchanged.
  const listed = new Map(candidates.map((field) => [field.toString("latin1"), field]));
  // Every page parses the candidates it is sent: pages of four checkpoints per candidate keep that a part of a
  // page's work, not the whole of it.
  const count = context.blobCheckPage ?? Math.min(CHECK_PAGE_MAX, Math.max(CHECK_PAGE_MIN, 4 * listed.size));
  for (let pass = 0; pass < CHECK_PASSES; pass++) {
    let after: Buffer | string = "";
    let read = 0;
    for (;;) {
      const args: ScriptArgs<"saverCheckBlobs"> = [ns, after, count, read, last ? "1" : "0", ...listed.values()];
      const page = await redisCall(context, { operation, write: true, keys: keys.all }, (client) =>
        outbox
          ? callScript(client, "saverCheckBlobs", { ...keys, outbox }, withAuditContext(args, auditContext))
          : callScript(client, "saverCheckBlobs", keys, args),
      );
      for (const field of page.needed) listed.delete(field.toString("latin1"));
      read += page.read;
      if (page.removed === -1) {
        after = page.after;
        continue;
      }
      if (page.removed >= 0) return page.removed;
      break;
    }
  }
  return -1;
}
