import { z } from "zod";
import { clientSchema, keyPrefixSchema, parseOptions, serdeSchema, ttlMsSchema } from "../options.js";

export const redisCacheOptionsSchema = z
  .object({
    /** ioredis Redis or Cluster. The cache never closes a client it was handed. */
    client: clientSchema,
    /** Prefix of every key the cache writes. */
    keyPrefix: keyPrefixSchema,
    /** Serializer of cached values. Default: LangGraph's JsonPlusSerializer (as InMemoryCache). */
    serde: serdeSchema.optional(),
    /** TTL (ms) of entries written without one (a cachePolicy with no `ttl`); unset: such entries never expire. */
    defaultTtlMs: ttlMsSchema.optional(),
    /**
     * Hash tags one namespace is spread over. Entries go to a bucket by a hash of their key, so one busy cached node
     * is not one hot slot on a cluster; clear(namespace) deletes every bucket (one command per bucket).
     */
    buckets: z.number().int().min(1).max(1024).default(16),
    /** Largest serialised value (bytes) a set accepts; larger ones throw ValueTooLargeError, nothing written. */
    maxValueBytes: z
      .number()
      .int()
      .positive()
      .max(512 * 1024 * 1024)
      .default(16 * 1024 * 1024),
  })
  .strict();

/** Options of `new RedisCache(...)`. */
export type RedisCacheOptions = z.input<typeof redisCacheOptionsSchema>;
/** Options of `RedisCache.fromUrl(url, ...)`: the same, without the client. */
export type RedisCacheUrlOptions = Omit<RedisCacheOptions, "client">;
export type ParsedCacheOptions = z.output<typeof redisCacheOptionsSchema>;

export function parseCacheOptions(input: unknown): ParsedCacheOptions {
  return parseOptions(redisCacheOptionsSchema, input, "RedisCache");
}
