import { BaseCache, type CacheFullKey, type CacheNamespace } from "@langchain/langgraph-checkpoint";
import { buildOnOwnedClient, type ClientFromUrlOptions, type RedisClient } from "../client.js";
import { initTelemetry, namespaceAttributes, traced } from "../telemetry/index.js";
import { cacheClear } from "./clear.js";
import { type CacheContext, createCacheContext } from "./context.js";
import { cacheGet } from "./get.js";
import { parseCacheOptions, type RedisCacheOptions, type RedisCacheUrlOptions } from "./options.js";
import { type CacheSetPair, cacheSet } from "./set.js";

/**
 * LangGraph node cache on Redis or Redis Cluster: pass it as `cache` to `compile()` and give nodes a `cachePolicy`.
 * A node whose input was seen before (within the TTL) is served from the cache instead of running again, across
 * processes. TTLs are in seconds (LangGraph's unit) and are enforced by the server clock. See docs/cache.md.
 */
export class RedisCache<V = unknown> extends BaseCache<V> {
  readonly #context: CacheContext;

  constructor(options: RedisCacheOptions) {
    const parsed = parseCacheOptions(options);
    super(parsed.serde);
    this.#context = createCacheContext(parsed, this.serde);
    initTelemetry();
  }

  /**
   * Opens its own client from a redis:// (or redis+cluster://) URL; close() closes it. `clientOptions` are ioredis
   * options, with `cluster` for the Cluster a cluster URL opens (see clientFromUrl).
   */
  static fromUrl<V = unknown>(
    url: string,
    options: RedisCacheUrlOptions = {},
    clientOptions: ClientFromUrlOptions = {},
  ): RedisCache<V> {
    return buildOnOwnedClient(url, clientOptions, (client) => new RedisCache<V>({ ...options, client }));
  }

  /** The client this cache uses. */
  get client(): RedisClient {
    return this.#context.client;
  }

  /** The key prefix every key of this cache starts with. */
  get keyPrefix(): string {
    return this.#context.keyPrefix;
  }

  /** The entries found (and not expired), in the order of `keys`; missing ones are left out. */
  override get(keys: CacheFullKey[]): Promise<{ key: CacheFullKey; value: V }[]> {
    return traced("RedisCache.get", namespaceAttributes(keys?.[0]?.[0]), () => cacheGet<V>(this.#context, keys));
  }

  /** Writes entries; `ttl` in seconds (absent: the cache's defaultTtlMs, or no expiry). */
  override set(pairs: CacheSetPair<V>[]): Promise<void> {
    return traced("RedisCache.set", namespaceAttributes(pairs?.[0]?.key?.[0]), () => cacheSet(this.#context, pairs));
  }

  /** Deletes every entry of the given namespaces (exact match); with none, every entry of this cache. */
  override clear(namespaces: CacheNamespace[]): Promise<void> {
    return traced("RedisCache.clear", {}, () => cacheClear(this.#context, namespaces));
  }

  /** Closes the client if this cache opened it (fromUrl); a client passed in is left open. */
  async close(): Promise<void> {
    await this.#context.close();
  }
}
