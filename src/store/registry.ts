import {
  STORE_REGISTRY_BUCKETS,
  type StoreRegistryKeys,
  storeNamespaceMember,
  storeRegistryBucket,
  storeRegistryKeys,
  storeRegistrySequenceKey,
} from "../keys.js";
import { type ReplyOf, scriptCall } from "../lua/index.js";
import { type RoutedCall, runRouted } from "../routing.js";
import type { StoreContext } from "./context.js";

/**
 * The namespace registry: every namespace holding at least one item, so search and listNamespaces can enumerate
 * namespaces across every slot without SCAN, with each namespace's registration sequence (search returns namespaces
 * in that order, as InMemoryStore returns them in creation order). It is spread over STORE_REGISTRY_BUCKETS buckets
 * (src/keys.ts) by a hash of the namespace, each a sorted set (scores 0, members are the labels joined by NUL) and a
 * hash of sequences in its own slot; readers send one call per bucket, pipelined, and merge the replies.
 *
 * On a standalone server the write scripts keep it exact, drawing sequences from one counter. On Redis Cluster the
 * client keeps it in a register-then-write / retire-then-unregister protocol (see docs/store.md); a bucket issues
 * the sequence the client proposes (its clock in microseconds, above every sequence it has seen) unless the bucket
 * already issued a larger one, so one process's namespaces keep their creation order across buckets.
 */
export type RegisteredNamespace = ReplyOf<"storeRegistryRead">[number];

export type LexRange = readonly [min: string, max: string];

/** The registry range holding `prefix` and every namespace below it (all namespaces for []). */
export function rangeForPrefix(prefix: readonly string[]): LexRange {
  if (prefix.length === 0) return ["-", "+"];
  const member = storeNamespaceMember(prefix);
  return [`[${member}`, `(${member}\u0001`];
}

const BUCKETS = Array.from({ length: STORE_REGISTRY_BUCKETS }, (_, b) => b);

/** The registry keys a write script of `member`'s namespace takes on a standalone server (inline registration). */
export function inlineRegistryKeys(ctx: StoreContext, member: string): StoreRegistryKeys {
  const bucket = storeRegistryKeys(ctx.keyPrefix, storeRegistryBucket(member));
  return { names: bucket.names, seq: bucket.seq, clock: storeRegistrySequenceKey(ctx.keyPrefix) };
}

/** Notes registration sequences seen, so this process proposes larger ones (cluster). */
function observe(ctx: StoreContext, namespaces: readonly RegisteredNamespace[]): void {
  for (const ns of namespaces) if (ns.seq > ctx.registryClock.last) ctx.registryClock.last = ns.seq;
}

/**
 * The calls reading the registered namespaces in `range` (at most `limit` per bucket): one for every bucket on a
 * standalone server, one per bucket on a cluster (each bucket has its own slot). Merge them with mergeRegistry.
 */
export function registryReadCalls(
  ctx: StoreContext,
  range: LexRange,
  limit?: number,
): RoutedCall<RegisteredNamespace[]>[] {
  const args: [string, string] | [string, string, number] =
    limit === undefined ? [range[0], range[1]] : [range[0], range[1], limit];
  const keysOf = (b: number) => {
    const { names, seq } = storeRegistryKeys(ctx.keyPrefix, b);
    return [names, seq];
  };
  const groups = ctx.cluster ? BUCKETS.map((b) => keysOf(b)) : [BUCKETS.flatMap(keysOf)];
  return groups.map((buckets) => {
    const call = scriptCall("storeRegistryRead", { buckets }, args);
    return {
      ...call,
      decode: (reply) => {
        const namespaces = call.decode(reply);
        observe(ctx, namespaces);
        return namespaces;
      },
    };
  });
}

function byteOrder(a: RegisteredNamespace, b: RegisteredNamespace): number {
  return Buffer.compare(Buffer.from(a.member, "utf8"), Buffer.from(b.member, "utf8"));
}

/** The buckets' replies as one list in byte order of the members (what one registry would have answered). */
export function mergeRegistry(parts: readonly RegisteredNamespace[][], limit?: number): RegisteredNamespace[] {
  const merged = parts.flat().sort(byteOrder);
  return limit === undefined ? merged : merged.slice(0, limit);
}

/** Reads the registered namespaces in `range` (at most `limit`), in byte order of their members. */
export async function readRegistry(ctx: StoreContext, range: LexRange, limit?: number): Promise<RegisteredNamespace[]> {
  const parts = await runRouted(ctx, registryReadCalls(ctx, range, limit));
  return mergeRegistry(parts, limit);
}

function groupByBucket<T>(entries: Iterable<[string, T]>): Map<number, [string, T][]> {
  const out = new Map<number, [string, T][]>();
  for (const entry of entries) {
    const bucket = storeRegistryBucket(entry[0]);
    const group = out.get(bucket);
    if (group) group.push(entry);
    else out.set(bucket, [entry]);
  }
  return out;
}

/**
 * Cluster: registers namespaces (proposing increasing sequences in the order given), one call per bucket involved;
 * each call's reply maps its members to their new registration sequences.
 */
export function registerCalls(ctx: StoreContext, members: readonly string[]): RoutedCall<Map<string, number>>[] {
  const proposed = members.map((member): [string, number] => {
    const seq = Math.max(Date.now() * 1000, ctx.registryClock.last + 1);
    ctx.registryClock.last = seq;
    return [member, seq];
  });
  return [...groupByBucket(proposed)].map(([bucket, group]) => {
    const call = scriptCall("storeRegister", storeRegistryKeys(ctx.keyPrefix, bucket), group.flat());
    return {
      ...call,
      decode: (reply) => {
        const seqs = call.decode(reply);
        const out = new Map(group.map(([member], i) => [member, seqs[i] as number]));
        for (const seq of seqs) if (seq > ctx.registryClock.last) ctx.registryClock.last = seq;
        return out;
      },
    };
  });
}

/** Cluster: drops registrations that are still the ones seen retiring, one call per bucket involved. */
export function unregisterCalls(ctx: StoreContext, retired: ReadonlyMap<string, number>): RoutedCall<number>[] {
  return [...groupByBucket(retired)].map(([bucket, group]) => {
    const { names, seq } = storeRegistryKeys(ctx.keyPrefix, bucket);
    return scriptCall("storeUnregister", { names, seq }, group.flat());
  });
}
