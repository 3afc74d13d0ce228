import { storeItemKeys, storeNamespaceKeys } from "../../keys.js";
import { queueScript } from "../../scripts/index.js";
import { decodeRecord, type StoredRecord } from "../codec.js";
import { RETIRED_GRACE_MS, type StoreContext } from "../context.js";
import type { RoutedCall } from "../route.js";
import { valueReader } from "../value-cipher.js";

/** Reads one item (storeGet): expired items are removed on the way; `refresh` pushes a TTL'd item's expiry out. */
export function getCall(ctx: StoreContext, namespace: readonly string[], key: string, refresh: boolean): RoutedCall {
  const k = storeNamespaceKeys(ctx.prefix, namespace);
  const item = storeItemKeys(ctx.prefix, namespace, key);
  const keys = [k.items, k.order, k.expiry, k.vectors, k.state, item.history, item.fenceMarks];
  return {
    key: k.items,
    queue: (p) => queueScript(p, "storeGet", keys, [key, refresh ? "1" : "0", RETIRED_GRACE_MS]),
  };
}

export function parseGetReply(
  ctx: StoreContext,
  namespace: readonly string[],
  key: string,
  reply: unknown,
): StoredRecord | null {
  const [, raw] = reply as [number, string?];
  if (raw === undefined || raw === null) return null;
  const itemsKey = storeNamespaceKeys(ctx.prefix, namespace).items;
  return decodeRecord(String(raw), itemsKey, key, valueReader(ctx, namespace, key, itemsKey));
}
