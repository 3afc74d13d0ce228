import { storeItemKeys, storeNamespaceKeys, storeNamespaceMember } from "../keys.js";
import { scriptCall } from "../lua/index.js";
import { type RoutedCall, runRouted } from "../routing.js";
import { indexKeysOf, RETIRED_GRACE_MS, type StoreContext } from "./context.js";
import { readNamespaceCall } from "./read-namespace.js";
import { readRegistry, unregisterCalls } from "./registry.js";
import type { SearchHit } from "./search.js";

/**
 * TTL upkeep. Items expire logically at their expiry time (every read compares it with the server clock) and are
 * removed with their index entries lazily: by the read that finds them, by every write to their namespace (a
 * bounded number per call) and by `sweepExpired`, which walks the namespace registry in bounded steps. A namespace
 * whose items all have a TTL also carries a native Redis expiry, so abandoned namespaces free their memory unaided.
 */

/** storeRefresh calls pushing out the expiry of TTL'd items a search returned, one call per namespace. */
export function refreshCalls(ctx: StoreContext, hits: readonly SearchHit[]): RoutedCall<number>[] {
  const byNamespace = new Map<string, { namespace: string[]; keys: string[] }>();
  for (const { item, record } of hits) {
    if (record.ttlMs === null) continue;
    const member = storeNamespaceMember(item.namespace);
    const entry = byNamespace.get(member) ?? { namespace: item.namespace, keys: [] };
    entry.keys.push(item.key);
    byNamespace.set(member, entry);
  }
  return [...byNamespace.values()].map(({ namespace, keys }) => {
    const itemKeys = keys.flatMap((key) => {
      const item = storeItemKeys(ctx.keyPrefix, namespace, key);
      return [item.history, item.fenceMarks];
    });
    const k = storeNamespaceKeys(ctx.keyPrefix, namespace);
    const fieldIndexes = indexKeysOf(ctx, namespace);
    return scriptCall("storeRefresh", { ...k, itemKeys, fieldIndexes }, [
      RETIRED_GRACE_MS,
      ...keys,
      fieldIndexes.length,
    ]);
  });
}

export interface SweepResult {
  /** Pass it to the next call to go on; null when the walk reached the end of the registry. */
  readonly cursor: string | null;
  /** Namespaces looked at. */
  readonly checked: number;
  /** Namespaces found empty (every item expired) and removed from the registry. */
  readonly removed: number;
}

/** One bounded sweep step: checks up to `maxNamespaces` registered namespaces after `cursor`. */
export async function sweepStep(ctx: StoreContext, cursor: string | null, maxNamespaces: number): Promise<SweepResult> {
  const min = cursor === null ? "-" : `(${cursor}`;
  const namespaces = await readRegistry(ctx, [min, "+"], maxNamespaces);
  const reads = await runRouted(
    ctx,
    namespaces.map((ns) => readNamespaceCall(ctx, ns)),
  );
  const retired = new Map<string, number>();
  for (const read of reads) if (read.live === 0) retired.set(read.namespace.member, read.namespace.seq);
  if (ctx.cluster && retired.size > 0) await runRouted(ctx, unregisterCalls(ctx, retired));
  const last = namespaces[namespaces.length - 1];
  return {
    cursor: namespaces.length < maxNamespaces || !last ? null : last.member,
    checked: namespaces.length,
    removed: retired.size,
  };
}
