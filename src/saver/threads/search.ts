/**
 * Reads of the thread registry: get one thread, search and count. A search ranges one index of every bucket (a
 * declared metadata field's value, a status, or every thread), newest created first, merging the buckets by
 * position; each round sends one command per bucket (pipelined: one round trip per server) and one record read per
 * bucket that has candidates. The other conditions filter the records read, so the cost follows the page when the
 * driving index is selective ("the threads of user X"), and the matches of the driving index otherwise.
 */
import { describeValue, InvalidInputError } from "../../errors.js";
import { THREAD_BUCKETS, type ThreadRegistryKeys, threadBucket, threadRegistryKeys } from "../../keys.js";
import { scriptCall } from "../../lua/index.js";
import { commandCall, runRouted } from "../../routing.js";
import type { SaverContext } from "../context.js";
import {
  comparePositionsNewestFirst,
  decodeCursor,
  decodeThreadRecord,
  encodeCursor,
  indexedValueJson,
  positionOf,
  rangePrefix,
  requireStatus,
  type ThreadInfo,
  type ThreadStatus,
} from "./record.js";

/** What threads.search and threads.count match. */
export interface ThreadFilter {
  /** Equality on declared (indexed) metadata fields; every field given must match. */
  readonly metadata?: Record<string, string | number | boolean> | undefined;
  readonly status?: ThreadStatus | undefined;
  /** Only threads written or whose status changed after this time (a Date, or Unix ms). */
  readonly updatedAfter?: Date | number | undefined;
}

export interface ThreadSearchQuery extends ThreadFilter {
  /** Most threads to return (1 to 1,000). Default 10. */
  readonly limit?: number | undefined;
  /** The `cursor` of the previous page, to continue after it. */
  readonly cursor?: string | undefined;
}

export interface ThreadSearchPage {
  /** Newest created first. */
  readonly threads: ThreadInfo[];
  /** Pass it back to read the next page; undefined when there is none. */
  readonly cursor: string | undefined;
}

interface Plan {
  readonly prefix: string;
  /** Conditions the driving index does not cover, checked on each record. */
  readonly filters: readonly ((thread: ThreadInfo) => boolean)[];
}

function plan(context: SaverContext, filter: ThreadFilter | undefined, operation: string): Plan {
  if (filter !== undefined && (filter === null || typeof filter !== "object")) {
    throw new InvalidInputError(`${operation}: expected an object of conditions, received ${describeValue(filter)}`);
  }
  const { metadata, status, updatedAfter } = filter ?? {};
  const conditions: { field: string; json: string }[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
      throw new InvalidInputError(`${operation}: metadata must be an object, received ${describeValue(metadata)}`);
    }
    for (const [field, value] of Object.entries(metadata)) {
      if (!context.indexedMetadata.includes(field)) {
        const declared = context.indexedMetadata.map((name) => JSON.stringify(name)).join(", ") || "none";
        throw new InvalidInputError(
          `${operation}: metadata field ${JSON.stringify(field)} is not indexed (declared with the saver's ` +
            `threads.indexedMetadata option: ${declared})`,
        );
      }
      conditions.push({ field, json: indexedValueJson(field, value, operation) });
    }
  }
  const wantedStatus = status === undefined ? undefined : requireStatus(status, operation);
  let afterMs: number | undefined;
  if (updatedAfter !== undefined) {
    afterMs = updatedAfter instanceof Date ? updatedAfter.getTime() : updatedAfter;
    if (typeof afterMs !== "number" || !Number.isFinite(afterMs)) {
      throw new InvalidInputError(
        `${operation}: updatedAfter must be a Date or Unix ms, received ${describeValue(updatedAfter)}`,
      );
    }
  }
  const [drive, ...others] = conditions;
  const filters: ((thread: ThreadInfo) => boolean)[] = others.map(
    ({ field, json }) =>
      (thread) =>
        Object.hasOwn(thread.metadata, field) && JSON.stringify(thread.metadata[field]) === json,
  );
  if (wantedStatus !== undefined && drive !== undefined) filters.push((thread) => thread.status === wantedStatus);
  if (afterMs !== undefined) {
    const after = afterMs;
    filters.push((thread) => thread.updatedAt.getTime() > after);
  }
  const prefix = rangePrefix(
    drive !== undefined ? { field: drive.field, valueJson: drive.json } : { status: wantedStatus },
  );
  return { prefix, filters };
}

function requireLimit(limit: unknown, operation: string): number {
  if (limit === undefined) return 10;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidInputError(
      `${operation}: limit must be a whole number from 1 to 1000, received ${describeValue(limit)}`,
    );
  }
  return limit;
}

/** A member of the driving index with its thread (undefined: no record, or past its TTL). */
interface Candidate {
  readonly position: string;
  readonly thread: ThreadInfo | undefined;
}

/** One bucket's part of the driving index, read newest first below the last position fetched. */
interface BucketCursor {
  readonly bucket: number;
  readonly keys: ThreadRegistryKeys;
  /** Members fetched and not yet consumed, newest first. */
  buffer: Candidate[];
  /** Exclusive upper bound of the next fetch (a position), or undefined to start at the newest. */
  below: string | undefined;
  done: boolean;
}

/** Reads the registry records of the given threads (grouped by bucket, pipelined). */
async function readRecords(
  context: SaverContext,
  threadIds: readonly string[],
  operation: string,
): Promise<Map<string, ThreadInfo>> {
  const byBucket = new Map<number, string[]>();
  for (const threadId of threadIds) {
    const bucket = threadBucket(threadId);
    const list = byBucket.get(bucket) ?? [];
    list.push(threadId);
    byBucket.set(bucket, list);
  }
  const groups = [...byBucket];
  const replies = await runRouted(
    context,
    groups.map(([bucket, ids]) => {
      const keys = threadRegistryKeys(context.keyPrefix, bucket);
      return scriptCall("saverReadThreads", { updated: keys.updated, records: keys.records }, ids);
    }),
    { operation, write: false },
  );
  const found = new Map<string, ThreadInfo>();
  groups.forEach(([bucket, ids], g) => {
    const reply = replies[g];
    if (reply === undefined) return;
    const records = threadRegistryKeys(context.keyPrefix, bucket).records;
    ids.forEach((threadId, i) => {
      const entry = reply.entries[i];
      if (entry?.record === undefined) return;
      // A thread idle past its TTL has expired: it is left out until the registry drops it.
      if (context.ttlMs > 0 && entry.updatedMs !== undefined && entry.updatedMs < reply.nowMs - context.ttlMs) return;
      found.set(threadId, decodeThreadRecord(threadId, entry.record, entry.updatedMs, records));
    });
  });
  return found;
}

/** The registry entry of one thread, or undefined when the registry does not know it (or it has expired). */
export async function getThread(context: SaverContext, threadId: string): Promise<ThreadInfo | undefined> {
  return (await readRecords(context, [threadId], "threads.get")).get(threadId);
}

export async function searchThreads(
  context: SaverContext,
  query: ThreadSearchQuery | undefined,
): Promise<ThreadSearchPage> {
  const operation = "threads.search";
  const { prefix, filters } = plan(context, query, operation);
  const limit = requireLimit(query?.limit, operation);
  const start = query?.cursor === undefined ? undefined : decodeCursor(query.cursor, operation);
  const prefixLength = Buffer.byteLength(prefix);
  const cursors: BucketCursor[] = Array.from({ length: THREAD_BUCKETS }, (_, bucket) => ({
    bucket,
    keys: threadRegistryKeys(context.keyPrefix, bucket),
    buffer: [],
    below: start,
    done: false,
  }));
  const threads: ThreadInfo[] = [];
  let last: string | undefined;
  // Without filters every candidate is returned, so a bucket never needs more than what is still missing.
  const pageSize = () => (filters.length === 0 ? limit - threads.length + 1 : Math.max(limit, 50));
  for (let round = 0; ; round++) {
    const empty = cursors.filter((cursor) => !cursor.done && cursor.buffer.length === 0);
    if (empty.length > 0) {
      // A page's threads usually spread over the buckets: the first round reads a bucket's fair share (twice over,
      // plus two), not a whole page from each; a bucket that runs out early is read again.
      const size = round === 0 ? Math.min(pageSize(), 2 * Math.ceil(limit / THREAD_BUCKETS) + 2) : pageSize();
      const replies = await runRouted(
        context,
        empty.map((cursor) =>
          scriptCall("saverSearchThreads", cursor.keys, [
            cursor.below === undefined ? `(${prefix}:` : `(${prefix}${cursor.below}`,
            `[${prefix}`,
            size,
            prefixLength,
          ]),
        ),
        { operation, write: false },
      );
      empty.forEach((cursor, i) => {
        const reply = replies[i];
        const entries = reply?.entries ?? [];
        cursor.buffer = entries.map((entry) => {
          const { position, threadId } = positionOf(entry.member, prefix);
          const expired =
            context.ttlMs > 0 && entry.updatedMs !== undefined && entry.updatedMs < (reply?.nowMs ?? 0) - context.ttlMs;
          const thread =
            entry.record === undefined || expired
              ? undefined
              : decodeThreadRecord(threadId, entry.record, entry.updatedMs, cursor.keys.records);
          return { position, thread };
        });
        cursor.below = cursor.buffer.at(-1)?.position ?? cursor.below;
        if (entries.length < size) cursor.done = true;
      });
    }
    // Take candidates in global order while every bucket that may hold a newer one has one buffered.
    let examined = 0;
    for (;;) {
      if (threads.length >= limit) break;
      if (cursors.some((cursor) => !cursor.done && cursor.buffer.length === 0)) break;
      let best: BucketCursor | undefined;
      for (const cursor of cursors) {
        const head = cursor.buffer[0];
        if (head === undefined) continue;
        const bestHead = best?.buffer[0];
        if (bestHead === undefined || comparePositionsNewestFirst(head.position, bestHead.position) < 0) best = cursor;
      }
      if (best === undefined) break;
      const candidate = best.buffer.shift() as Candidate;
      examined += 1;
      last = candidate.position;
      const thread = candidate.thread;
      if (thread !== undefined && filters.every((test) => test(thread))) threads.push(thread);
    }
    const exhausted = cursors.every((cursor) => cursor.done && cursor.buffer.length === 0);
    if (threads.length >= limit) {
      return { threads, cursor: !exhausted && last !== undefined ? encodeCursor(last) : undefined };
    }
    if (exhausted || (examined === 0 && empty.length === 0)) return { threads, cursor: undefined };
  }
}

/**
 * How many threads match. One ZLEXCOUNT per bucket (pipelined) when one index answers the whole filter (one
 * metadata field, or a status, or nothing); otherwise it reads the matches of the driving index, a page at a time.
 * Threads past their TTL count until the registry drops them (one-index case only).
 */
export async function countThreads(context: SaverContext, filter: ThreadFilter | undefined): Promise<number> {
  const operation = "threads.count";
  const { prefix, filters } = plan(context, filter, operation);
  if (filters.length === 0) {
    const counts = await runRouted(
      context,
      Array.from({ length: THREAD_BUCKETS }, (_, bucket) => {
        const key = threadRegistryKeys(context.keyPrefix, bucket).index;
        return commandCall<number>(key, (pipeline) => pipeline.zlexcount(key, `[${prefix}`, `(${prefix}:`));
      }),
      { operation, write: false },
    );
    return counts.reduce((sum: number, count) => sum + Number(count ?? 0), 0);
  }
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await searchThreads(context, { ...filter, limit: 1000, cursor });
    total += page.threads.length;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return total;
}
