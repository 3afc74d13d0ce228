import { storeNamespaceKeys } from "../keys.js";
import { decodeStoreReadNamespace } from "../lua/catalogue.js";
import { type ReplyOf, scriptCall } from "../lua/index.js";
import type { RoutedCall } from "../routing.js";
import { PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "./context.js";
import type { RegisteredNamespace } from "./registry.js";
import { valueReader } from "./value-cipher.js";

/** One namespace as search sees it: live records in insertion order, with their vectors when asked for. */
export interface NamespaceRead extends ReplyOf<"storeReadNamespace"> {
  readonly namespace: RegisteredNamespace;
}

export type ReadMode = "count" | "items" | "vectors";

/** Reads one namespace (storeReadNamespace); on a standalone server the script retires an empty one inline. */
export function readNamespaceCall(
  ctx: StoreContext,
  ns: RegisteredNamespace,
  mode: ReadMode,
): RoutedCall<NamespaceRead> {
  const keys = { ...storeNamespaceKeys(ctx.keyPrefix, ns.namespace), ...(ctx.cluster ? {} : ctx.registry) };
  const call = scriptCall("storeReadNamespace", keys, [mode, ns.member, ns.seq, PURGE_LIMIT, RETIRED_GRACE_MS]);
  if (ctx.cipher === undefined) return { ...call, decode: (reply) => ({ namespace: ns, ...call.decode(reply) }) };
  const revealFor = (key: string) => valueReader(ctx, ns.namespace, key, keys.items);
  return {
    ...call,
    decode: (reply) => ({ namespace: ns, ...decodeStoreReadNamespace(reply, keys.items, revealFor) }),
  };
}
