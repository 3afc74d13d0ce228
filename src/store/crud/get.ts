import { storeItemKeys, storeNamespaceKeys } from "../../keys.js";
import { decodeStoreGet } from "../../lua/catalogue.js";
import { scriptCall } from "../../lua/index.js";
import type { RoutedCall } from "../../routing.js";
import type { StoredRecord } from "../codec.js";
import { indexKeysOf, RETIRED_GRACE_MS, type StoreContext } from "../context.js";
import { valueReader } from "../value-cipher.js";

/** Reads one item (storeGet): expired items are removed on the way; `refresh` pushes a TTL'd item's expiry out. */
export function getCall(
  ctx: StoreContext,
  namespace: readonly string[],
  key: string,
  refresh: boolean,
): RoutedCall<StoredRecord | null> {
  const fieldIndexes = indexKeysOf(ctx, namespace);
  const keys = {
    ...storeNamespaceKeys(ctx.keyPrefix, namespace),
    ...storeItemKeys(ctx.keyPrefix, namespace, key),
    fieldIndexes,
  };
  const call = scriptCall("storeGet", keys, [key, refresh ? "1" : "0", RETIRED_GRACE_MS, fieldIndexes.length]);
  const reveal = valueReader(ctx, namespace, key, keys.items);
  return { ...call, decode: (reply) => decodeStoreGet(reply, keys.items, key, reveal) };
}
