/**
 * What every saver operation module needs: the shared context (client, key prefix, durability, ready()), plus the
 * TTL settings, the serializer and the value size limit.
 */
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { type AuditOutbox, createAuditOutbox, type ParsedAuditOption } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import { type Compression, compressionFrom, type ParsedCompressionOptions } from "../compression.js";
import { createRedisContext, MIN_SERVER_VERSION, type RedisContext } from "../context.js";
import type { DurabilityOptions } from "../durability.js";
import { CorruptCheckpointError } from "../errors.js";
import { BlobDeltas, type ParsedBlobDeltasOptions } from "./blob-delta.js";
import { DEFAULT_DELTA_HISTORY_CACHE_BYTES, DeltaHistoryCache } from "./delta-history-cache.js";
import { DeltaHistoryReadAhead } from "./delta-history-read-ahead.js";
import { LegacyLayoutChecks } from "./legacy-layout.js";
import { type RetentionOptions, retentionSpec } from "./retention.js";
import { ThreadKeysCache } from "./thread-keys.js";

export interface SaverContext extends RedisContext {
  /** 0 when threads never expire (the scripts' convention), and with the keepLatest TTL strategy. */
  readonly ttlMs: number;
  /** The keepLatest TTL strategy: idle time (ms) after which sweepExpired() trims a thread; 0 otherwise. */
  readonly keepLatestAfterMs: number;
  /** saverPut's retention argument ("keepLast slack", or "" when the option is off). */
  readonly retentionSpec: string;
  readonly refreshOnRead: boolean;
  readonly serde: SerializerProtocol;
  /** Largest serialised value a write accepts (bytes). */
  readonly maxValueBytes: number;
  /** The audit outbox, when the `audit` option is on. */
  readonly audit: AuditOutbox | undefined;
  /** Delta encoding of channel blobs (undefined: off). */
  readonly deltas: BlobDeltas | undefined;
  /** Compression of channel blobs and pending writes (undefined: off). */
  readonly compression: Compression | undefined;
  /**
   * Store checkpoint records packed (record.ts) and pending writes as PACKED_WRITE frames (write-frame.ts): forms
   * earlier releases cannot read, on unless the `compression` option is `false`.
   */
  readonly packRecords: boolean;
  /** Metadata fields the thread registry indexes (the `threads.indexedMetadata` option). */
  readonly indexedMetadata: readonly string[];
  /** Threads whose earlier-release keys this process already had converted (saverPut's upgrade argument). */
  readonly legacyLayout: LegacyLayoutChecks;
  /** The key names of recently used threads, built once per thread. */
  readonly threadKeys: ThreadKeysCache;
  /** The DeltaChannel histories read last, so a later load walks only what was written since (undefined: off). */
  readonly deltaHistory: DeltaHistoryCache | undefined;
  /** DeltaChannel history pages getTuple read with its checkpoint, waiting for the load that follows (undefined:
   * the `deltaHistoryReadAhead` option is off). */
  readonly historyReadAhead: DeltaHistoryReadAhead | undefined;
  /**
   * Overrides BLOB_CHECK_LIMIT of blob-check.ts (tests: 0 sends every trimmed thread through prune's blob sweep and
   * every deleteForRuns through the paged check).
   */
  readonly blobCheckLimit?: number | undefined;
  /** Overrides the checkpoints per page of blob-check.ts (tests: small pages). */
  readonly blobCheckPage?: number | undefined;
}

/** Forgets the DeltaChannel histories held or read ahead for a thread this process removes or replaces. */
export function forgetHistories(context: SaverContext, threadId: string): void {
  context.deltaHistory?.forgetThread(threadId);
  context.historyReadAhead?.forgetThread(threadId);
}

export function createSaverContext(options: {
  client: RedisClient;
  keyPrefix: string;
  ttl: { defaultTtlMs?: number | undefined; refreshOnRead: boolean; strategy?: "delete" | "keepLatest" };
  retention?: RetentionOptions | undefined;
  serde: SerializerProtocol;
  durability?: DurabilityOptions | undefined;
  maxValueBytes?: number | undefined;
  audit?: ParsedAuditOption | undefined;
  blobDeltas?: ParsedBlobDeltasOptions | undefined;
  compression?: ParsedCompressionOptions | undefined;
  threads?: { indexedMetadata: string[] } | undefined;
  deltaHistoryCache?: { maxBytes: number } | false | undefined;
  deltaHistoryReadAhead?: boolean | undefined;
  /** Overrides MIN_SERVER_VERSION (tests). */
  minServerVersion?: readonly [number, number, number];
  /** Overrides BLOB_CHECK_LIMIT and the blob check's page size (tests). */
  blobCheckLimit?: number;
  blobCheckPage?: number;
}): SaverContext {
  return {
    ...createRedisContext({
      client: options.client,
      keyPrefix: options.keyPrefix,
      component: "RedisSaver",
      durability: options.durability,
      minServerVersion: options.minServerVersion ?? MIN_SERVER_VERSION,
      corruptError: CorruptCheckpointError,
    }),
    ttlMs: options.ttl.strategy === "keepLatest" ? 0 : (options.ttl.defaultTtlMs ?? 0),
    keepLatestAfterMs: options.ttl.strategy === "keepLatest" ? (options.ttl.defaultTtlMs ?? 0) : 0,
    retentionSpec: retentionSpec(options.retention),
    refreshOnRead: options.ttl.refreshOnRead,
    serde: options.serde,
    maxValueBytes: options.maxValueBytes ?? Number.POSITIVE_INFINITY,
    audit: createAuditOutbox(options.client, options.keyPrefix, options.audit),
    deltas: BlobDeltas.from(options.blobDeltas),
    compression: compressionFrom(options.compression),
    packRecords: options.compression !== false,
    indexedMetadata: [...new Set(options.threads?.indexedMetadata ?? [])],
    legacyLayout: new LegacyLayoutChecks(),
    threadKeys: new ThreadKeysCache(options.keyPrefix),
    deltaHistory:
      options.deltaHistoryCache === false
        ? undefined
        : new DeltaHistoryCache(options.deltaHistoryCache?.maxBytes ?? DEFAULT_DELTA_HISTORY_CACHE_BYTES),
    historyReadAhead: options.deltaHistoryReadAhead === false ? undefined : new DeltaHistoryReadAhead(),
    blobCheckLimit: options.blobCheckLimit,
    blobCheckPage: options.blobCheckPage,
  };
}
