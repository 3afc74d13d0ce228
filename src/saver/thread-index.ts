/**
 * The cross-thread index: a sorted set of thread ids scored by last activity, which list() without a thread_id
 * walks. On a standalone server the write scripts update it themselves (one more key, same script, atomic). On a
 * cluster it lives in another slot than the thread's keys, so it is written next to each write script instead
 * (same round trip, concurrently) and tolerated if stale:
 * - an entry whose thread is gone (expired, deleted, or a write that failed) is removed lazily by list();
 * - a thread whose touch failed is missing until its next write;
 * - with ttlMs, entries idle for longer than the TTL are trimmed on every touch.
 */
import { isCluster } from "../client.js";
import { saverThreadIndexKey } from "../keys.js";
import { log } from "../log.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import type { SaverContext } from "./context.js";

/** Margin past ttlMs before an idle entry is trimmed (the touch and the thread's script are not one transaction). */
export const TRIM_GRACE_MS = 60_000;

/**
 * The cross-thread index key when a thread's write script can update it itself (standalone: one keyspace, no
 * slots), else undefined (cluster: the caller runs touchThread beside its script).
 */
export function inScriptThreadIndexKey(context: SaverContext): string | undefined {
  return isCluster(context.client) ? undefined : saverThreadIndexKey(context.keyPrefix);
}

/** Records activity of a thread. Never throws: a failed touch only leaves the index stale. */
export async function touchThread(context: SaverContext, threadId: string): Promise<void> {
  const key = saverThreadIndexKey(context.keyPrefix);
  try {
    await redisCall(context, { operation: "RedisSaver: thread index", write: true, keys: [key] }, (client) =>
      callScript(client, "saverTouchThread", { threadIndex: key }, [threadId, context.ttlMs, TRIM_GRACE_MS]),
    );
  } catch (error) {
    log("saver: thread index not updated for a thread (%s); list() without thread_id may miss it", String(error));
  }
}

/**
 * Removes a thread from the index. With `seenScore`, only if the thread was not touched since that score was
 * read (a concurrent first write keeps its entry); without, unconditionally (deleteThread).
 */
export async function forgetThread(context: SaverContext, threadId: string, seenScore?: string): Promise<void> {
  const key = saverThreadIndexKey(context.keyPrefix);
  await redisCall(context, { operation: "RedisSaver: thread index", write: true, keys: [key] }, (client) =>
    callScript(client, "saverForgetThread", { threadIndex: key }, [threadId, seenScore ?? ""]),
  );
}

export interface IndexedThread {
  threadId: string;
  /** The score as Redis returned it, for forgetThread. */
  score: string;
}

/**
 * Every indexed thread, most recently active first, fetched `pageSize` at a time. The walk is weakly consistent:
 * a thread written while it runs moves ahead of the cursor and is not visited again.
 */
export async function* indexedThreads(context: SaverContext, pageSize = 100): AsyncGenerator<IndexedThread> {
  const key = saverThreadIndexKey(context.keyPrefix);
  let max = "+inf";
  // Members already returned that carry the boundary score (scores can tie across threads).
  let seenAtMax = new Set<string>();
  for (;;) {
    const reply = await redisCall(context, { operation: "RedisSaver.list", write: false, keys: [key] }, (client) =>
      client.zrange(key, max, "-inf", "BYSCORE", "REV", "LIMIT", seenAtMax.size, pageSize, "WITHSCORES"),
    );
    if (reply.length === 0) return;
    let lastScore = max;
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const threadId = reply[i] as string;
      const score = reply[i + 1] as string;
      if (score !== lastScore) {
        lastScore = score;
        seenAtMax = new Set();
      }
      seenAtMax.add(threadId);
      yield { threadId, score };
    }
    if (reply.length / 2 < pageSize) return;
    max = lastScore;
  }
}
