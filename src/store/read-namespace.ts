import { storeNamespaceKeys } from "../keys.js";
import { queueScript } from "../scripts/index.js";
import { decodeRecord, type StoredRecord } from "./codec.js";
import { PURGE_LIMIT, RETIRED_GRACE_MS, type StoreContext } from "./context.js";
import type { RegisteredNamespace } from "./registry.js";
import type { RoutedCall } from "./route.js";
import { valueReader } from "./value-cipher.js";

/** One namespace as search sees it: live records in insertion order, with their vectors when asked for. */
export interface NamespaceRead {
  readonly namespace: RegisteredNamespace;
  readonly live: number;
  readonly records: readonly { key: string; record: StoredRecord; vectors: Buffer | null }[];
}

export type ReadMode = "count" | "items" | "vectors";

export function readNamespaceCall(ctx: StoreContext, ns: RegisteredNamespace, mode: ReadMode): RoutedCall {
  const k = storeNamespaceKeys(ctx.prefix, ns.namespace);
  const keys = [k.items, k.order, k.expiry, k.vectors, k.state];
  if (!ctx.cluster) keys.push(ctx.registry.names, ctx.registry.seq);
  const args = [mode, ns.member, ns.seq, PURGE_LIMIT, RETIRED_GRACE_MS];
  return { key: k.items, queue: (p) => queueScript(p, "storeReadNamespace", keys, args, true) };
}

function pairs(flat: readonly Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set((flat[i] as Buffer).toString("utf8"), flat[i + 1] as Buffer);
  return map;
}

export function parseReadNamespace(ctx: StoreContext, ns: RegisteredNamespace, reply: unknown): NamespaceRead {
  const [nowRaw, liveRaw, keysRaw = [], itemsRaw = [], vectorsRaw = []] = reply as [
    Buffer,
    number,
    Buffer[]?,
    Buffer[]?,
    Buffer[]?,
  ];
  const now = Number(String(nowRaw));
  const live = Number(liveRaw);
  const itemsKey = storeNamespaceKeys(ctx.prefix, ns.namespace).items;
  const items = pairs(itemsRaw);
  const vectors = pairs(vectorsRaw);
  const records: NamespaceRead["records"][number][] = [];
  for (const keyBuf of keysRaw) {
    const key = keyBuf.toString("utf8");
    const raw = items.get(key);
    if (raw === undefined) continue;
    const reveal = ctx.cipher === undefined ? undefined : valueReader(ctx, ns.namespace, key, itemsKey);
    const record = decodeRecord(raw.toString("utf8"), itemsKey, key, reveal);
    if (record.expireAt !== null && record.expireAt <= now) continue;
    records.push({ key, record, vectors: vectors.get(key) ?? null });
  }
  return { namespace: ns, live, records };
}
