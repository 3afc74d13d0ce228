/** One line per thread for `threads`: newest first, with its status, steps, size in Redis and last writer. */
import type { RedisClient } from "../../client.js";
import { saverThreadIndexKey, saverThreadKeys, THREAD_BUCKETS, threadRegistryKeys } from "../../keys.js";
import { checkpointCount } from "../../saver/checkpoint-count.js";
import type { RedisSaver } from "../../saver/redis-saver.js";
import { describeCheckpoint } from "./checkpoints.js";
import type { RunLeaseInfo } from "./leases.js";
import { memoryUsage } from "./scan.js";

export type ThreadStatus = "running" | "crashed" | "interrupted" | "error" | "pending" | "done";

export interface ThreadSummary {
  readonly threadId: string;
  /** Server time of the thread's last write, from the cross-thread index. */
  readonly lastWriteMs: number;
  readonly status: ThreadStatus;
  /** Checkpoints stored (every namespace). */
  readonly checkpoints: number;
  /** The latest root checkpoint's step. */
  readonly step: number | null;
  readonly latestCheckpointId: string;
  /** Nodes that wrote the latest checkpoint. */
  readonly lastWriter: readonly string[];
  /** What runs next (from the trigger channels) or what stopped it. */
  readonly next: readonly string[];
  /** MEMORY USAGE of every key of the thread. */
  readonly bytes: number;
  /** The run lease on the thread, when there is one. */
  readonly lease: RunLeaseInfo | null;
}

/**
 * Thread ids of the cross-thread index (every bucket of the thread registry, and the single index of earlier
 * versions), most recently written first, with their last-write time.
 */
export async function indexedThreads(
  client: RedisClient,
  prefix: string,
  limit: number,
): Promise<{ threadId: string; lastWriteMs: number }[]> {
  const keys = [
    ...Array.from({ length: THREAD_BUCKETS }, (_, bucket) => threadRegistryKeys(prefix, bucket).updated),
    saverThreadIndexKey(prefix),
  ];
  const replies = await Promise.all(
    keys.map((key) => client.zrange(key, "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, limit, "WITHSCORES")),
  );
  const latest = new Map<string, number>();
  for (const reply of replies) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const threadId = String(reply[i]);
      const lastWriteMs = Number(reply[i + 1]);
      if ((latest.get(threadId) ?? -1) < lastWriteMs) latest.set(threadId, lastWriteMs);
    }
  }
  return [...latest]
    .map(([threadId, lastWriteMs]) => ({ threadId, lastWriteMs }))
    .sort((a, b) => b.lastWriteMs - a.lastWriteMs)
    .slice(0, limit);
}

export async function summarizeThread(
  saver: RedisSaver,
  threadId: string,
  lastWriteMs: number,
  lease: RunLeaseInfo | undefined,
): Promise<ThreadSummary | undefined> {
  const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
  if (tuple === undefined) return undefined; // an index entry whose thread expired or was deleted
  const parentConfig = tuple.parentConfig;
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const [parent, count, sizes] = await Promise.all([
    parentConfig ? saver.getTuple(parentConfig) : undefined,
    checkpointCount(saver.client, keys.byNamespace),
    memoryUsage(saver.client, keys.all),
  ]);
  const info = describeCheckpoint(tuple, parent, 0);
  const channels = info.pendingWrites.map((w) => w.channel);
  let status: ThreadStatus;
  let next = info.next;
  if (lease?.state === "live") status = "running";
  else if (lease?.state === "expired" && (info.next.length > 0 || info.pendingWrites.length > 0)) status = "crashed";
  else if (channels.includes("__interrupt__")) status = "interrupted";
  else if (channels.includes("__error__")) status = "error";
  else status = info.next.length > 0 ? "pending" : "done";
  if (status === "interrupted" || status === "error") next = info.next.length > 0 ? info.next : [];
  return {
    threadId,
    lastWriteMs,
    status,
    checkpoints: count,
    step: info.step,
    latestCheckpointId: info.checkpointId,
    lastWriter: info.writers,
    next,
    bytes: sizes.reduce((a, b) => a + b, 0),
    lease: lease ?? null,
  };
}

/** Runs `fn` over `items` with at most `limit` at once, keeping order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
