import { storeNamespaceKeys } from "../keys.js";
import { decodeStoreReadNamespace } from "../lua/catalogue.js";
import { type ReplyOf, scriptCall } from "../lua/index.js";
import type { RoutedCall } from "../routing.js";
import { indexKeysOf, PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "./context.js";
import { inlineRegistryKeys, type RegisteredNamespace } from "./registry.js";
import { valueReader } from "./value-cipher.js";

/** One namespace as search sees it: live records in insertion order, with their vectors when asked for. */
export interface NamespaceRead extends ReplyOf<"storeReadNamespace"> {
  readonly namespace: RegisteredNamespace;
}

export type ReadMode = "count" | "items" | "vectors";

/**
 * What one read of a namespace asks for: the mode, the filter index conditions selecting items ("" = every item),
 * and the window of selected items returned (skip them, then at most `take`; "" = all).
 */
export interface ReadSpec {
  readonly mode: ReadMode;
  readonly conditions: string;
  readonly skip: number;
  readonly take: number | "";
}

export const COUNT_READ: ReadSpec = { mode: "count", conditions: "", skip: 0, take: "" };

/** Reads one namespace (storeReadNamespace); on a standalone server the script retires an empty one inline. */
export function readNamespaceCall(
  ctx: StoreContext,
  ns: RegisteredNamespace,
  spec: ReadSpec = COUNT_READ,
): RoutedCall<NamespaceRead> {
  const fieldIndexes = indexKeysOf(ctx, ns.namespace);
  const keys = {
    ...storeNamespaceKeys(ctx.keyPrefix, ns.namespace),
    ...(ctx.cluster ? {} : inlineRegistryKeys(ctx, ns.member)),
    fieldIndexes,
  };
  const call = scriptCall("storeReadNamespace", keys, [
    spec.mode,
    ns.member,
    ns.seq,
    PURGE_LIMIT,
    RETIRED_GRACE_MS,
    spec.skip,
    spec.take,
    spec.conditions,
    fieldIndexes.length,
  ]);
  const revealFor = (key: string) => valueReader(ctx, ns.namespace, key, keys.items);
  return {
    ...call,
    decode: (reply) => ({ namespace: ns, ...decodeStoreReadNamespace(reply, keys.items, revealFor) }),
  };
}
