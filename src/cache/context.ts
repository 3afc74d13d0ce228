import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { createRedisContext, type RedisContext } from "../context.js";
import { cacheRegistryKey } from "../keys.js";
import type { ParsedCacheOptions } from "./options.js";

/** What every cache operation module needs: the shared context plus the cache's settings. */
export interface CacheContext extends RedisContext {
  readonly serde: SerializerProtocol;
  readonly buckets: number;
  /** TTL (ms) of entries set without one; undefined: they never expire. */
  readonly defaultTtlMs: number | undefined;
  readonly maxValueBytes: number;
  readonly registry: string;
  /**
   * Namespace members this process has already put in the registry (registration is idempotent, so the memo only
   * saves a round trip; it is bounded and simply forgets when full).
   */
  readonly registered: Set<string>;
}

/** Expired entries one set removes at most per bucket (the rest go on later writes; reads filter them anyway). */
export const PRUNE_LIMIT = 100;

/** Registered namespaces remembered per process before the memo starts over. */
export const REGISTERED_MEMO_LIMIT = 10_000;

/** Registry members read per round trip by clear() with no namespace. */
export const REGISTRY_PAGE = 500;

export function createCacheContext(options: ParsedCacheOptions, serde: SerializerProtocol): CacheContext {
  return {
    // HMGET, HSET, ZADD, ZRANGEBYSCORE and PEXPIREAT: every Redis version the library supports has them.
    ...createRedisContext({ client: options.client, keyPrefix: options.keyPrefix, component: "RedisCache" }),
    serde,
    buckets: options.buckets,
    defaultTtlMs: options.defaultTtlMs,
    maxValueBytes: options.maxValueBytes,
    registry: cacheRegistryKey(options.keyPrefix),
    registered: new Set(),
  };
}
