import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { auditOptionSchema } from "../audit/outbox.js";
import { compressionOptionsSchema } from "../compression.js";
import { durabilityOptionsSchema } from "../durability.js";
import type { EncryptionOptions } from "../encryption/options.js";
import { offlineOptionsSchema } from "../offline/options.js";
import { clientSchema, keyPrefixSchema, ttlMsSchema, ttlOptionsSchema } from "../options.js";

const embeddingsSchema = z.custom<EmbeddingsInterface>(
  (value) =>
    value !== null &&
    typeof value === "object" &&
    typeof (value as { embedDocuments?: unknown }).embedDocuments === "function" &&
    typeof (value as { embedQuery?: unknown }).embedQuery === "function",
  { message: "an Embeddings instance (with embedDocuments and embedQuery)" },
);

export const storeIndexSchema = z
  .object({
    /** Number of dimensions the embeddings model returns. */
    dims: z.number().int().positive().max(65_536),
    embeddings: embeddingsSchema,
    /** JSON paths whose text is embedded (LangGraph path syntax); "$" embeds the whole value. */
    fields: z.array(z.string().min(1)).min(1).default(["$"]),
  })
  .strict();

/** How a declared field is indexed: "string" and "boolean" serve equality, "number" serves ranges and equality. */
export const filterFieldTypeSchema = z.enum(["string", "number", "boolean"]);

/** Field names a filter index may declare: a top-level field of the value (filters compare top-level fields). */
const filterFieldNameSchema = z.string().min(1).max(128);

export const filterIndexSchema = z
  .object({
    /** Top-level value fields to index, each with the kind of index it gets. At most 32. */
    fields: z
      .record(filterFieldNameSchema, filterFieldTypeSchema)
      .refine((fields) => Object.keys(fields).length >= 1 && Object.keys(fields).length <= 32, {
        message: "between 1 and 32 fields",
      }),
  })
  .strict();

export const redisStoreOptionsSchema = z
  .object({
    /** ioredis Redis or Cluster. The store never closes a client it was handed. */
    client: clientSchema,
    /** Prefix of every key the store writes. */
    keyPrefix: keyPrefixSchema,
    /** Writer recorded in the history when neither the write nor the run's config names one. */
    agentId: z.string().min(1).max(256).optional(),
    /** History entries kept per item (oldest dropped first). */
    historyLimit: z.number().int().min(1).max(100_000).default(20),
    /** `{ defaultTtlMs, refreshOnRead }`: TTL of every write that passes none of its own, and whether get and
     * search push an item's expiry out again (default true). */
    ttl: ttlOptionsSchema,
    /** Semantic search: embed the given fields of every value and rank `search({ query })` by cosine similarity. */
    index: storeIndexSchema.optional(),
    /** Secondary indexes for search filters: `{ fields: { status: "string", priority: "number" } }`. The write
     * scripts keep one sorted set per declared field and namespace; filters on these fields read only what the
     * indexes select (docs/store.md, "Filter indexes"). */
    filterIndex: filterIndexSchema.optional(),
    /** Largest JSON value (UTF-8 bytes) a write accepts; larger ones throw ValueTooLargeError. */
    maxValueBytes: z
      .number()
      .int()
      .positive()
      .max(512 * 1024 * 1024)
      .default(1024 * 1024),
    /** Compress item values (and their history entries) of at least `minBytes` (serialised JSON) with zlib, the
     * same option as RedisSaver's (docs/store.md, "Compression"). Off unless given; items stored either way stay
     * readable. */
    compression: compressionOptionsSchema.optional(),
    /** Persistence check before the first write, and waits for replicas / the AOF after each write
     * (docs/operations.md). */
    durability: durabilityOptionsSchema.optional(),
    /** Audit trail (docs/audit.md): every put and delete, and every fenced write refused, appends an event to an
     * outbox stream in the same script as the write. `true`, or `{ agentId, includeValues }`. Default off. */
    audit: auditOptionSchema.optional(),
    /** Ride out Redis outages on a local journal (docs/offline.md): `{ journalDir, maxBytes, maxAgeMs, ... }`.
     * Off unless given; not with `encryption` (the store's journal holds values as JSON). */
    offline: offlineOptionsSchema.optional(),
    /** Encrypt every value (and its history) with AES-256-GCM (docs/encryption.md). Validated on its own, so key
     * material never appears in an error message. */
    encryption: z
      .custom<EncryptionOptions>((value) => value !== null && typeof value === "object" && !Array.isArray(value), {
        message: "encryption options ({ keys, currentKeyId, requireEncrypted })",
      })
      .optional(),
  })
  .strict();

/** Options of `new RedisStore(...)`. */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;
/** Options of `RedisStore.fromUrl(url, ...)`: the same, without the client. */
export type RedisStoreUrlOptions = Omit<RedisStoreOptions, "client">;
export type ParsedStoreOptions = z.output<typeof redisStoreOptionsSchema>;
export type StoreIndexConfig = z.output<typeof storeIndexSchema>;
/** The `filterIndex` option. */
export type FilterIndexOptions = z.input<typeof filterIndexSchema>;
export type FilterFieldType = z.output<typeof filterFieldTypeSchema>;

/** Per-write options of the direct write methods (put, delete, putIfVersion, update). */
export const writeOptionsSchema = z
  .object({
    /** Who wrote (recorded in the history); overrides the run's config and the store's `agentId`. */
    writer: z.string().min(1).max(256).optional(),
    /** TTL of this item; `null` = never expires, even with a default TTL configured. */
    ttlMs: ttlMsSchema.nullable().optional(),
    /** Fencing token of the guarded() lock this write runs under; older tokens are rejected (FencedWriteError). */
    fence: z
      .object({
        lockKey: z.string().min(1),
        token: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      })
      .strict()
      .optional(),
    /** Fields to embed for this write (`false`: none), instead of the index's `fields`. */
    index: z.union([z.literal(false), z.array(z.string().min(1))]).optional(),
  })
  .strict();

export type StoreWriteOptions = z.input<typeof writeOptionsSchema>;
