import { storeNamespaceMember } from "../keys.js";
import { type ReplyOf, scriptCall } from "../lua/index.js";
import { type RoutedCall, runRouted } from "../routing.js";
import type { StoreContext } from "./context.js";

/**
 * The namespace registry: every namespace holding at least one item, in one sorted set (scores 0, members are the
 * labels joined by NUL) so search and listNamespaces can enumerate namespaces across every slot without SCAN, plus
 * each namespace's registration sequence (search returns namespaces in that order, as InMemoryStore returns them in
 * creation order). On a standalone server the write scripts keep it exact; on Redis Cluster it lives in its own slot
 * and is kept by the client in a register-then-write / retire-then-unregister protocol (see docs/store.md).
 */
export type RegisteredNamespace = ReplyOf<"storeRegistryRead">[number];

export type LexRange = readonly [min: string, max: string];

/** The registry range holding `prefix` and every namespace below it (all namespaces for []). */
export function rangeForPrefix(prefix: readonly string[]): LexRange {
  if (prefix.length === 0) return ["-", "+"];
  const member = storeNamespaceMember(prefix);
  return [`[${member}`, `(${member}\u0001`];
}

/** The registered namespaces in `range` (at most `limit`), with their registration sequences. */
export function registryReadCall(
  ctx: StoreContext,
  range: LexRange,
  limit?: number,
): RoutedCall<RegisteredNamespace[]> {
  return scriptCall(
    "storeRegistryRead",
    ctx.registry,
    limit === undefined ? [range[0], range[1]] : [range[0], range[1], limit],
  );
}

/** Cluster: registers namespaces (in the order given); the reply is their new registration sequences. */
export function registerCall(ctx: StoreContext, members: readonly string[]): RoutedCall<number[]> {
  return scriptCall("storeRegister", ctx.registry, [...members]);
}

/** Cluster: drops registrations that are still the ones seen retiring. */
export function unregisterCall(ctx: StoreContext, retired: ReadonlyMap<string, number>): RoutedCall<number> {
  return scriptCall("storeUnregister", ctx.registry, [...retired].flat());
}

/** Reads the registered namespaces in `range` (at most `limit`), in byte order of their members. */
export async function readRegistry(ctx: StoreContext, range: LexRange, limit?: number): Promise<RegisteredNamespace[]> {
  const [namespaces] = await runRouted(ctx, [registryReadCall(ctx, range, limit)]);
  return namespaces;
}
