/**
 * copyThread(fromThreadId, toThreadId): copies a whole thread (every namespace's checkpoints, their blobs, pending
 * writes and run index) into a thread that has no data; Python's copy_thread. Values are copied as raw bytes under
 * the same fields, so everything a record references (its blobs by (channel, version)) stays valid.
 *
 * On a cluster the two threads live in different slots, so the copy is two scripts by design: saverExportThread
 * reads the source in one call (a snapshot of one instant), saverImportThread writes the destination in one call.
 * The destination is therefore either absent or complete, whenever the client dies: a copy that was cut off simply
 * did not happen, and running it again does it. Before the import, the destination is added to the run hashes of the
 * runs found in the source (a superset, harmless if the import never runs), so deleteForRuns reaches the copy too.
 *
 * Run fences: the destination must not be a thread a live leased run is writing (it may have raised its fence there
 * and not written yet): the import checks that atomically and ThreadLeasedError reports it. Copying from a thread a
 * run is writing is fine: the export is a snapshot of one instant. With audit on, the import records a copy event
 * (counts written, source thread in its context) in the destination's slot.
 */
import { withAuditContext } from "../audit/outbox.js";
import { describeValue, InvalidInputError, ThreadExistsError, ThreadLeasedError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { unescapePart } from "./codec.js";
import { forgetHistories, type SaverContext } from "./context.js";
import { recordRunThread } from "./run-index.js";
import { inScriptThreadIndexKey, TRIM_GRACE_MS } from "./thread-index.js";
import { registerQuietly } from "./threads/register.js";
import { requireWellFormedInput } from "./well-formed.js";

export interface CopyThreadResult {
  /** Checkpoints copied (0: the source thread has no data, and nothing was written). */
  checkpoints: number;
}

function requireId(value: unknown, name: string, operation: string): string {
  if (typeof value !== "string" || value === "") {
    throw new InvalidInputError(`${operation}: ${name} must be a non-empty string, received ${describeValue(value)}`);
  }
  requireWellFormedInput({ [name]: value }, operation);
  return value;
}

export async function copyThread(
  context: SaverContext,
  fromThreadId: string,
  toThreadId: string,
): Promise<CopyThreadResult> {
  const operation = "RedisSaver.copyThread";
  const from = requireId(fromThreadId, "fromThreadId", operation);
  const to = requireId(toThreadId, "toThreadId", operation);
  if (from === to) throw new InvalidInputError(`${operation}: source and destination are the same thread`);
  const source = saverThreadKeys(context.keyPrefix, from);
  const destination = saverThreadKeys(context.keyPrefix, to);

  const { checkpoints, blobs, writes, runMembers, sweep } = await redisCall(
    context,
    { operation, write: false, keys: source.all },
    (client) => callScript(client, "saverExportThread", source, []),
  );
  if (checkpoints.length === 0 && writes.length === 0) return { checkpoints: 0 };

  const runIds = new Set<string>();
  for (const member of runMembers) {
    const text = member.toString("utf8");
    runIds.add(unescapePart(text.slice(0, text.indexOf("\0"))));
  }
  await Promise.all([...runIds].map((runId) => recordRunThread(context, runId, to)));

  const indexKey = inScriptThreadIndexKey(context, context.threadKeys.get(to));
  const args: ScriptArgs<"saverImportThread"> = [
    context.ttlMs,
    to,
    TRIM_GRACE_MS,
    checkpoints.length / 2,
    blobs.length / 2,
    writes.length / 2,
    runMembers.length,
    // The destination's checkpoint index: a LIST, or the ZSET earlier releases read with `compression: false`; and
    // the mark of a source whose blobs include some that prune's sweep has yet to delete.
    `${context.packRecords ? "" : "z"}${sweep ? "s" : ""}` as "" | "z" | "s" | "zs",
    ...byField(checkpoints),
    ...blobs,
    ...writes,
    ...runMembers,
  ];
  await context.durability.ready();
  // The copy keeps the source's blob fields, so delta blobs and their bases arrive together under the same names.
  context.deltas?.forget(to);
  forgetHistories(context, to);
  const audit = context.audit;
  const { copied, liveRuns } = await redisCall(
    context,
    { operation, write: true, keys: destination.all },
    async (client) =>
      audit
        ? callScript(
            client,
            "saverImportThread",
            { ...destination, threadIndex: indexKey, outbox: await audit.stream(destination.checkpoints) },
            withAuditContext(args, { threadId: to, sourceThreadId: from, agent: audit.agentId }),
          )
        : callScript(client, "saverImportThread", { ...destination, threadIndex: indexKey }, args),
  );
  if (liveRuns) throw new ThreadLeasedError(to, liveRuns, operation);
  if (copied < 0) throw new ThreadExistsError(to);
  await registerQuietly(context, to, { touch: indexKey === undefined });
  await context.durability.afterWrite(destination.checkpoints, `RedisSaver.copyThread into ${JSON.stringify(to)}`);
  return { checkpoints: copied };
}

/**
 * (field, value) pairs, flat, in the byte order of their fields: the order of the destination's checkpoint index,
 * which the import script then builds without sorting in Redis.
 */
function byField(pairs: readonly Buffer[]): Buffer[] {
  const order = Array.from({ length: pairs.length / 2 }, (_, i) => 2 * i);
  order.sort((a, b) => Buffer.compare(pairs[a] as Buffer, pairs[b] as Buffer));
  return order.flatMap((at) => [pairs[at] as Buffer, pairs[at + 1] as Buffer]);
}
