/**
 * One round trip of the read script: a lex range of one thread's checkpoint index, returned with each checkpoint's
 * record, blobs and writes. getTuple and list() both read through here.
 */
import { callScript, type ReplyOf, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { checkpointField, escapePart } from "./codec.js";
import type { SaverContext } from "./context.js";
import { DELTA_HISTORY_PAGE_BYTES, DELTA_HISTORY_PAGE_CHECKPOINTS } from "./delta-history-pages.js";
import { touchThread } from "./thread-index.js";

export type { RawCheckpoint } from "../lua/catalogue.js";

/** What saverRead returns: how many checkpoints the thread holds in all (0: none), and the page read. */
export type ReadResult = ReplyOf<"saverRead">;

export interface CheckpointRange {
  /**
   * "ns": one namespace, bounds over byNamespace members `ns\0id`; "id": every namespace, bounds over `id\0ns` (the
   * read script merges the namespaces' ranges in that order).
   */
  index: "ns" | "id";
  max: string;
  min: string;
  limit: number;
}

/** The single checkpoint `id` of namespace `ns`. */
export function exactRange(ns: string, checkpointId: string): CheckpointRange {
  const member = checkpointField(ns, checkpointId);
  return { index: "ns", max: `[${member}`, min: `[${member}`, limit: 1 };
}

/** Checkpoints of namespace `ns` with an id below `beforeId` (or all), newest first. */
export function namespaceRange(ns: string, beforeId: string | undefined, limit: number): CheckpointRange {
  const prefix = `${escapePart(ns)}\0`;
  const max = beforeId === undefined ? `(${escapePart(ns)}\x01` : `(${prefix}${escapePart(beforeId)}`;
  return { index: "ns", max, min: `[${prefix}`, limit };
}

/** Checkpoints of every namespace with an id below `beforeId` (or all), newest first. */
export function allNamespacesRange(beforeId: string | undefined, limit: number): CheckpointRange {
  return { index: "id", max: beforeId === undefined ? "+" : `(${escapePart(beforeId)}\0`, min: "-", limit };
}

/** Checkpoint `id` in whichever namespaces hold it. */
export function idInAllNamespacesRange(checkpointId: string, limit: number): CheckpointRange {
  const id = escapePart(checkpointId);
  return { index: "id", max: `(${id}\x01`, min: `[${id}\0`, limit };
}

/** Continues a range after the last checkpoint returned (its field), for the next page. */
export function continueRange(range: CheckpointRange, lastField: Buffer): CheckpointRange {
  const text = lastField.toString("utf8");
  if (range.index === "ns") return { ...range, max: `(${text}` };
  // "id" bounds are `id\0ns`, fields `ns\0id` (both already escaped).
  const cut = text.indexOf("\0");
  return { ...range, max: `(${text.slice(cut + 1)}\0${text.slice(0, cut)}` };
}

/**
 * Reads `range` of one thread. With `ns` (a range within one namespace), the channel values this saver wrote last
 * in that namespace and still holds (the delta encoder's cache) are not sent again: the script checks their stored
 * length and returns "" for them, and the checkpoints carry the held bytes instead. `use`: "list" for a page of
 * list(); "tuple" for getTuple, whose checkpoint comes with the first page of its DeltaChannel history, walked down
 * to the history this process holds of the thread if any (delta-history-read-ahead.ts).
 */
export async function readCheckpoints(
  context: SaverContext,
  threadId: string,
  range: CheckpointRange,
  ns?: string,
  use?: "list" | "tuple",
): Promise<ReadResult> {
  const keys = context.threadKeys.get(threadId).thread;
  const ttlMs = context.refreshOnRead ? context.ttlMs : 0;
  const held = ns === undefined ? undefined : context.deltas?.held(threadId, ns);
  // A process that holds DeltaChannel histories of the thread learns the history epoch with the page, so the
  // history load that follows the read can be answered from what it holds (delta-history-cache.ts, observe); so does
  // a page of list() (use "list": getStateHistory loads every state's history after the first one's walk), and a
  // read that brings a history page.
  const withHistory = use === "tuple" && ns !== undefined && context.historyReadAhead !== undefined;
  // The walk read ahead stops at the newest checkpoint whose history this process holds, as the load's would.
  const heldTip = withHistory ? context.deltaHistory?.tip(threadId, ns) : undefined;
  const withEpoch =
    context.deltaHistory !== undefined && (use === "list" || context.deltaHistory.holdsThread(threadId));
  const args: ScriptArgs<"saverRead"> = [
    range.index,
    range.max,
    range.min,
    range.limit,
    ttlMs,
    withHistory ? "2" : withEpoch ? "1" : "",
    DELTA_HISTORY_PAGE_CHECKPOINTS,
    DELTA_HISTORY_PAGE_BYTES,
    heldTip?.checkpointId ?? "",
    heldTip?.epoch ?? "",
  ];
  if (held !== undefined) for (const [field, blob] of held) args.push(field, blob.storedLength);
  const generation = context.deltaHistory?.generation ?? 0;
  const result = await redisCall(context, { operation: "RedisSaver: read", write: false, keys: keys.all }, (client) =>
    callScript(client, "saverRead", keys, args),
  );
  const [first] = result.checkpoints;
  if (result.history !== undefined && first !== undefined && result.epoch !== undefined) {
    const { channels, ...page } = result.history;
    context.historyReadAhead?.put(threadId, first.field.toString("utf8"), {
      channels,
      page,
      epoch: result.epoch,
      stopAt: heldTip?.checkpointId ?? "",
      generation,
    });
  }
  for (const checkpoint of result.checkpoints) {
    if (held !== undefined) checkpoint.held = held;
    // Noted by decodeCheckpoint for the checkpoints whose DeltaChannel history LangGraph loads next.
    if (result.epoch !== undefined) checkpoint.epoch = result.epoch;
  }
  // refreshOnRead keeps the thread alive, so its cross-thread index entry must not be trimmed either. Not awaited:
  // the reader does not wait for bookkeeping, and touchThread never throws.
  // With the keepLatest TTL the index entry is the thread's idle clock (sweepExpired reads it).
  const idleClock = ttlMs > 0 || (context.refreshOnRead && context.keepLatestAfterMs > 0);
  if (idleClock && result.hasCheckpoints) void touchThread(context, threadId);
  return result;
}
