/**
 * The cross-thread index: per registry bucket (keys.threadRegistryKeys, THREAD_BUCKETS of them, chosen by a hash of
 * the thread id) a sorted set of thread ids scored by last activity, which list() without a thread_id walks, merging
 * the buckets newest first. On a standalone server the write scripts update the thread's bucket themselves (one
 * more key, same script, atomic). On a cluster the bucket lives in another slot than the thread's keys, so it is
 * written next to each write script instead (same round trip, concurrently) and tolerated if stale:
 * - an entry whose thread is gone (expired, deleted, or a write that failed) is removed lazily by list();
 * - a thread whose touch failed is missing until its next write;
 * - with ttlMs, threads idle for longer than the TTL are dropped when a thread of their bucket registers.
 * The single index of earlier versions (keys.saverThreadIndexKey) is still read and cleaned, never written.
 */
import type { ChainableCommander } from "ioredis";
import { saverThreadIndexKey, THREAD_BUCKETS, threadBucket, threadRegistryKeys } from "../keys.js";
import { log } from "../log.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { commandCall, runRouted } from "../routing.js";
import type { SaverContext } from "./context.js";
import type { ThreadKeys } from "./thread-keys.js";

/** Margin past ttlMs before an idle thread is dropped (the touch and the thread's script are not one transaction). */
export const TRIM_GRACE_MS = 60_000;

/**
 * The thread's cross-thread index key when its write script can update it itself (standalone: one keyspace, no
 * slots), else undefined (cluster: the caller runs touchThread beside its script). Takes the thread's keys as the
 * caller got them (context.threadKeys), so a call looks them up once.
 */
export function inScriptThreadIndexKey(context: SaverContext, keys: ThreadKeys): string | undefined {
  return context.cluster ? undefined : keys.threadIndex;
}

/** Records activity of a thread. Never throws: a failed touch only leaves the index stale. */
export async function touchThread(context: SaverContext, threadId: string): Promise<void> {
  const key = context.threadKeys.get(threadId).threadIndex;
  try {
    await redisCall(context, { operation: "RedisSaver: thread index", write: true, keys: [key] }, (client) =>
      callScript(client, "saverTouchThread", { threadIndex: key }, [threadId]),
    );
  } catch (error) {
    log("saver: thread index not updated for a thread (%s); list() without thread_id may miss it", String(error));
  }
}

/**
 * Removes a thread from the index (and the registry). With `seenScore`, only if the thread was not touched since
 * that score was read (a concurrent first write keeps its entry) and it is not registered; without,
 * unconditionally (deleteThread). `legacy`: the entry came from the index of earlier versions.
 */
export async function forgetThread(
  context: SaverContext,
  threadId: string,
  seenScore?: string,
  legacy = false,
): Promise<void> {
  const operation = "RedisSaver: thread index";
  if (legacy || seenScore === undefined) {
    // Nothing writes the old index any more, so removing from it cannot drop a thread written since.
    const old = saverThreadIndexKey(context.keyPrefix);
    await redisCall(context, { operation, write: true, keys: [old] }, (client) => client.zrem(old, threadId));
    if (legacy) return;
  }
  const keys = threadRegistryKeys(context.keyPrefix, threadBucket(threadId));
  await redisCall(context, { operation, write: true, keys: [keys.updated, keys.records, keys.index] }, (client) =>
    callScript(client, "saverForgetThread", keys, [threadId, seenScore ?? "", context.ttlMs]),
  );
}

export interface IndexedThread {
  threadId: string;
  /** The score as Redis returned it, for forgetThread. */
  score: string;
  /** Found in the index of earlier versions. */
  legacy: boolean;
}

/** One sorted set read newest first, a page at a time (scores can tie across threads). */
class IndexSource {
  #max = "+inf";
  #seenAtMax = new Set<string>();
  #buffer: { threadId: string; score: string }[] = [];
  #done = false;

  constructor(
    readonly key: string,
    readonly legacy: boolean,
    readonly pageSize: number,
  ) {}

  get exhausted(): boolean {
    return this.#done && this.#buffer.length === 0;
  }

  get needsPage(): boolean {
    return !this.#done && this.#buffer.length === 0;
  }

  head(): { threadId: string; score: string } | undefined {
    return this.#buffer[0];
  }

  shift(): { threadId: string; score: string } | undefined {
    return this.#buffer.shift();
  }

  queue(pipeline: ChainableCommander): void {
    pipeline.zrange(
      this.key,
      this.#max,
      "-inf",
      "BYSCORE",
      "REV",
      "LIMIT",
      this.#seenAtMax.size,
      this.pageSize,
      "WITHSCORES",
    );
  }

  accept(reply: string[]): void {
    let lastScore = this.#max;
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const threadId = reply[i] as string;
      const score = reply[i + 1] as string;
      if (score !== lastScore) {
        lastScore = score;
        this.#seenAtMax = new Set();
      }
      this.#seenAtMax.add(threadId);
      this.#buffer.push({ threadId, score });
    }
    if (reply.length / 2 < this.pageSize) this.#done = true;
    this.#max = lastScore;
  }
}

/**
 * Every indexed thread, most recently active first, merged over the buckets (and the index of earlier versions),
 * fetched `pageSize` at a time per bucket: the first pages in one pipelined round, later pages as a bucket runs
 * out. The walk is weakly consistent: a thread written while it runs moves ahead of the cursor and is not visited
 * again.
 */
export async function* indexedThreads(context: SaverContext, pageSize = 100): AsyncGenerator<IndexedThread> {
  const sources = Array.from(
    { length: THREAD_BUCKETS },
    (_, bucket) => new IndexSource(threadRegistryKeys(context.keyPrefix, bucket).updated, false, pageSize),
  );
  sources.push(new IndexSource(saverThreadIndexKey(context.keyPrefix), true, pageSize));
  const yielded = new Set<string>();
  for (;;) {
    const empty = sources.filter((source) => source.needsPage);
    if (empty.length > 0) {
      const replies = await runRouted(
        context,
        empty.map((source) => commandCall<string[]>(source.key, (pipeline) => source.queue(pipeline))),
        { operation: "RedisSaver.list", write: false },
      );
      for (const [i, source] of empty.entries()) source.accept(replies[i] ?? []);
    }
    let best: IndexSource | undefined;
    for (const source of sources) {
      const head = source.head();
      if (head === undefined) continue;
      const bestHead = best?.head();
      // Ties go to the greater thread id, as one sorted set read in reverse orders them.
      const newer =
        bestHead === undefined ||
        Number(head.score) > Number(bestHead.score) ||
        (Number(head.score) === Number(bestHead.score) &&
          Buffer.compare(Buffer.from(head.threadId), Buffer.from(bestHead.threadId)) > 0);
      if (newer) best = source;
    }
    if (best === undefined) return;
    const entry = best.shift() as { threadId: string; score: string };
    if (yielded.has(entry.threadId)) continue;
    yielded.add(entry.threadId);
    yield { ...entry, legacy: best.legacy };
  }
}
