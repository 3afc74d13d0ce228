import { storeItemKeys } from "../keys.js";
import { explainWrongType } from "../redis-errors.js";
import { decodeHistoryEntry, type HistoryEntry } from "./codec.js";
import type { StoreContext } from "./context.js";
import { asStoreError } from "./route.js";
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
  const historyKey = storeItemKeys(ctx.prefix, namespace, key).history;
  let raw: string[];
  try {
    raw = await ctx.client.zrevrange(historyKey, 0, limit - 1);
  } catch (error) {
    throw asStoreError(await explainWrongType(ctx.client, error));
  }
  const reveal = valueReader(ctx, namespace, key, historyKey);
  return raw.map((entry) => decodeHistoryEntry(entry, historyKey, reveal));
}
