import { storeNamespaceFromMember, storeNamespaceMember } from "../keys.js";
import { queueScript } from "../scripts/index.js";
import type { StoreContext } from "./context.js";
import type { RoutedCall } from "./route.js";

/**
 * The namespace registry: every namespace holding at least one item, in one sorted set (scores 0, members are the
 * labels joined by NUL) so search and listNamespaces can enumerate namespaces across every slot without SCAN, plus
 * each namespace's registration sequence (search returns namespaces in that order, as InMemoryStore returns them in
 * creation order). On a standalone server the write scripts keep it exact; on Redis Cluster it lives in its own slot
 * and is kept by the client in a register-then-write / retire-then-unregister protocol (see docs/store.md).
 */
export interface RegisteredNamespace {
  readonly namespace: string[];
  readonly member: string;
  readonly seq: number;
}

export type LexRange = readonly [min: string, max: string];

/** The registry range holding `prefix` and every namespace below it (all namespaces for []). */
export function rangeForPrefix(prefix: readonly string[]): LexRange {
  if (prefix.length === 0) return ["-", "+"];
  const member = storeNamespaceMember(prefix);
  return [`[${member}`, `(${member}\u0001`];
}

export function registryReadCall(ctx: StoreContext, range: LexRange, limit?: number): RoutedCall {
  const args = limit === undefined ? [range[0], range[1]] : [range[0], range[1], limit];
  return {
    key: ctx.registry.names,
    queue: (p) => queueScript(p, "storeRegistryRead", [ctx.registry.names, ctx.registry.seq], args),
  };
}

export function parseRegistryReply(reply: unknown): RegisteredNamespace[] {
  const flat = reply as string[];
  const out: RegisteredNamespace[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const member = String(flat[i]);
    out.push({ namespace: storeNamespaceFromMember(member), member, seq: Number(flat[i + 1]) });
  }
  return out;
}

/** Cluster: registers namespaces (in the order given); the reply is their new registration sequences. */
export function registerCall(ctx: StoreContext, members: readonly string[]): RoutedCall {
  const keys = [ctx.registry.names, ctx.registry.seq, ctx.registry.clock];
  return { key: ctx.registry.names, queue: (p) => queueScript(p, "storeRegister", keys, members) };
}

/** Cluster: drops registrations that are still the ones seen retiring. */
export function unregisterCall(ctx: StoreContext, retired: ReadonlyMap<string, number>): RoutedCall {
  const args = [...retired].flat();
  return {
    key: ctx.registry.names,
    queue: (p) => queueScript(p, "storeUnregister", [ctx.registry.names, ctx.registry.seq], args),
  };
}
