/**
 * set(): serialises every value first (nothing is written if one fails), registers namespaces this process has not
 * registered yet (for clear() with no namespace), then writes one cacheSet script per bucket, pipelined. Each
 * bucket's entries are written atomically; a set spanning several buckets is not one transaction (a cache needs no
 * more: a missing entry is a miss).
 *
 * `ttl` is in seconds, as in LangGraph's CachePolicy and InMemoryCache; the scripts take milliseconds.
 */
import type { CacheFullKey } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, ValueTooLargeError } from "../errors.js";
import { type ScriptArg, scriptCall } from "../lua/index.js";
import { commandCall, runRouted } from "../routing.js";
import { encodePayload, groupByBucket, namespaceMember, requireFullKey } from "./codec.js";
import { type CacheContext, PRUNE_LIMIT, REGISTERED_MEMO_LIMIT } from "./context.js";

export interface CacheSetPair<V> {
  key: CacheFullKey;
  value: V;
  /** Seconds; absent or null: the cache's defaultTtlMs (or no expiry). */
  ttl?: number;
}

/** The TTL argument of cacheSet: "" for none, "0" to drop the entry (a TTL of zero or less has already passed). */
export function ttlArgument(ttl: unknown, defaultTtlMs: number | undefined): string {
  if (ttl === undefined || ttl === null) return defaultTtlMs === undefined ? "" : String(defaultTtlMs);
  if (typeof ttl !== "number" || Number.isNaN(ttl)) {
    throw new InvalidInputError(`RedisCache.set: ttl must be a number of seconds, received ${String(ttl)}`);
  }
  if (ttl === Number.POSITIVE_INFINITY) return "";
  if (ttl <= 0) return "0";
  const ms = Math.ceil(ttl * 1000);
  return ms > Number.MAX_SAFE_INTEGER ? "" : String(ms);
}

export async function cacheSet<V>(ctx: CacheContext, pairs: CacheSetPair<V>[]): Promise<void> {
  if (!Array.isArray(pairs) || pairs.length === 0) return;
  for (const pair of pairs) requireFullKey(pair?.key, "RedisCache.set");
  const prepared = await Promise.all(
    pairs.map(async (pair) => {
      const ttl = ttlArgument(pair.ttl, ctx.defaultTtlMs);
      const [type, bytes] = await ctx.serde.dumpsTyped(pair.value);
      if (bytes.byteLength > ctx.maxValueBytes) {
        throw new ValueTooLargeError(
          `RedisCache.set: the value for cache key ${JSON.stringify(pair.key[1])}`,
          bytes.byteLength,
          ctx.maxValueBytes,
        );
      }
      return { ttl, payload: encodePayload(type, bytes, "RedisCache.set") };
    }),
  );

  const unregistered = [...new Set(pairs.map((pair) => namespaceMember(pair.key[0])))].filter(
    (member) => !ctx.registered.has(member),
  );
  if (unregistered.length > 0) {
    // Registered before the entries are written, so clear() with no namespace never misses a namespace with entries.
    await runRouted(
      ctx,
      [commandCall(ctx.registry, (p) => void p.zadd(ctx.registry, ...unregistered.flatMap((m) => [0, m])))],
      { operation: "RedisCache.set", write: true },
    );
    if (ctx.registered.size + unregistered.length > REGISTERED_MEMO_LIMIT) ctx.registered.clear();
    for (const member of unregistered) ctx.registered.add(member);
  }

  const groups = groupByBucket(
    ctx,
    pairs.map((pair) => pair.key),
  );
  await runRouted(
    ctx,
    groups.map((group) => {
      const entries: ScriptArg[] = [];
      group.indexes.forEach((index, j) => {
        const { ttl, payload } = prepared[index] as { ttl: string; payload: Buffer };
        entries.push(group.fields[j] as string, ttl, payload);
      });
      return scriptCall("cacheSet", { entries: group.entries, expiry: group.expiry }, [PRUNE_LIMIT, ...entries]);
    }),
    { operation: "RedisCache.set", write: true },
  );
}
