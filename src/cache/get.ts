/**
 * get(): one cacheGet script per bucket the keys fall in, pipelined (one round trip per server). Entries whose TTL
 * has passed are left out by the script (server clock), as InMemoryCache leaves them out.
 */
import type { CacheFullKey } from "@langchain/langgraph-checkpoint";
import { sealedValueHint } from "../encryption/serializer.js";
import { CorruptDataError, EncryptionError, encryptionErrorAt, LangGraphRedisError } from "../errors.js";
import { scriptCall } from "../lua/index.js";
import { runRouted } from "../routing.js";
import { countEvent } from "../telemetry/index.js";
import { ATTR } from "../telemetry/names.js";
import { decodePayload, groupByBucket, requireFullKey } from "./codec.js";
import type { CacheContext } from "./context.js";

export async function cacheGet<V>(ctx: CacheContext, keys: CacheFullKey[]): Promise<{ key: CacheFullKey; value: V }[]> {
  if (!Array.isArray(keys) || keys.length === 0) return [];
  for (const key of keys) requireFullKey(key, "RedisCache.get");
  const groups = groupByBucket(ctx, keys);
  const replies = await runRouted(
    ctx,
    groups.map((group) => scriptCall("cacheGet", { entries: group.entries }, group.fields)),
    { operation: "RedisCache.get", write: false },
  );
  const payloads: (Buffer | null)[] = new Array(keys.length).fill(null);
  const sources: string[] = new Array(keys.length);
  groups.forEach((group, g) => {
    const reply = replies[g] ?? [];
    group.indexes.forEach((index, j) => {
      payloads[index] = reply[j] ?? null;
      sources[index] = group.entries;
    });
  });
  const hits = payloads.filter((payload) => payload !== null && payload !== undefined).length;
  if (hits > 0) countEvent("cacheLookups", { [ATTR.outcome]: "hit" }, hits);
  if (hits < keys.length) countEvent("cacheLookups", { [ATTR.outcome]: "miss" }, keys.length - hits);
  const out: { key: CacheFullKey; value: V }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const payload = payloads[i];
    if (payload === null || payload === undefined) continue;
    const source = sources[i] as string;
    const [type, bytes] = decodePayload(payload, source);
    let value: V;
    try {
      value = (await ctx.serde.loadsTyped(type, bytes)) as V;
    } catch (error) {
      if (error instanceof EncryptionError) throw encryptionErrorAt(error, source);
      if (error instanceof LangGraphRedisError) throw error;
      const hint = sealedValueHint(type, bytes);
      const what = `the entry for cache key ${JSON.stringify(keys[i]?.[1])} cannot be read`;
      throw new CorruptDataError(source, hint === undefined ? what : `${what}: ${hint}`, { cause: error });
    }
    out.push({ key: keys[i] as CacheFullKey, value });
  }
  return out;
}
