import { storeItemKeys } from "../keys.js";
import { redisCall } from "../redis-call.js";
import { decodeHistoryEntry, type HistoryEntry } from "./codec.js";
import type { StoreContext } from "./context.js";
import { valueReader } from "./value-cipher.js";

/**
 * The write history of one item, newest first. Every write (put or delete) of the item appended one entry in the
 * same script that wrote it, so the history never misses or invents a write; the oldest entries beyond
 * `historyLimit` are dropped. The history outlives a delete (it records it) and expires with an item that has a TTL.
 */
export async function readHistory(
  ctx: StoreContext,
  namespace: readonly string[],
  key: string,
  limit: number,
): Promise<HistoryEntry[]> {
  const historyKey = storeItemKeys(ctx.keyPrefix, namespace, key).history;
  const site = { operation: "RedisStore", write: false };
  const raw = await redisCall(ctx, site, (client) => client.zrevrangeBuffer(historyKey, 0, limit - 1));
  const reveal = valueReader(ctx, namespace, key, historyKey);
  return raw.map((entry) => decodeHistoryEntry(entry, historyKey, reveal));
}
