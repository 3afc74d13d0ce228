/**
 * clear(): deletes every bucket of the given namespaces (UNLINK of a bucket's two keys, one command per bucket,
 * pipelined per server: each bucket goes atomically; a namespace's buckets are cleared together but not as one
 * transaction). With no namespaces it clears every namespace in the registry, read in bounded pages. No KEYS or
 * SCAN: the registry is kept by set().
 *
 * The registry keeps its members (one short member per namespace ever cached: for a graph, one per cached node),
 * so a process that registered a namespace never has to register it again.
 */
import type { CacheNamespace } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { cacheBucketKeys, cacheNamespaceFromMember } from "../keys.js";
import { commandCall, type RoutedCall, runRouted } from "../routing.js";
import { requireNamespace } from "./codec.js";
import { type CacheContext, REGISTRY_PAGE } from "./context.js";

const CLEAR_SITE = { operation: "RedisCache.clear", write: true } as const;

function clearCalls(ctx: CacheContext, namespaces: readonly CacheNamespace[]): RoutedCall[] {
  const calls: RoutedCall[] = [];
  for (const namespace of namespaces) {
    for (let bucket = 0; bucket < ctx.buckets; bucket++) {
      const keys = cacheBucketKeys(ctx.keyPrefix, namespace, bucket);
      calls.push(commandCall(keys.entries, (p) => void p.unlink(keys.entries, keys.expiry)));
    }
  }
  return calls;
}

export async function cacheClear(ctx: CacheContext, namespaces: CacheNamespace[]): Promise<void> {
  if (!Array.isArray(namespaces)) {
    throw new InvalidInputError("RedisCache.clear: expected an array of namespaces ([] clears every namespace)");
  }
  for (const namespace of namespaces) requireNamespace(namespace, "RedisCache.clear");
  if (namespaces.length > 0) {
    await runRouted(ctx, clearCalls(ctx, namespaces), CLEAR_SITE);
    return;
  }
  let min = "-";
  for (;;) {
    const [page] = await runRouted(
      ctx,
      [
        commandCall<string[]>(
          ctx.registry,
          (p) => void p.zrangebylex(ctx.registry, min, "+", "LIMIT", 0, REGISTRY_PAGE),
        ),
      ],
      CLEAR_SITE,
    );
    if (page.length === 0) return;
    await runRouted(ctx, clearCalls(ctx, page.map(cacheNamespaceFromMember)), CLEAR_SITE);
    if (page.length < REGISTRY_PAGE) return;
    min = `(${page[page.length - 1]}`;
  }
}
