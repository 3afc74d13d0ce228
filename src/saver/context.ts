/**
 * What every saver operation module needs: the client, the key prefix, TTL settings, the serializer, and a lazy
 * one-time check that the server supports the commands the scripts use.
 */
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { type RedisClient, requireServerVersion } from "../client.js";
import { type Compression, compressionFrom, type ParsedCompressionOptions } from "../compression.js";
import { type DurabilityOptions, WriteDurability } from "../durability.js";
import { UnsupportedServerError } from "../errors.js";
import { registerScripts } from "../scripts/index.js";
import { BlobDeltas, type ParsedBlobDeltasOptions } from "./blob-delta.js";

/** ZRANGE ... BYLEX REV LIMIT (the index reads) arrived in Redis 6.2. */
export const SAVER_MIN_SERVER_VERSION = [6, 2, 0] as const;

export interface SaverContext {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  /** 0 when threads never expire (the scripts' convention). */
  readonly ttlMs: number;
  readonly refreshOnRead: boolean;
  readonly serde: SerializerProtocol;
  /** The durability option: the start-up persistence check and the waits after each write. */
  readonly durability: WriteDurability;
  /** Largest serialised value a write accepts (bytes). */
  readonly maxValueBytes: number;
  /** Delta encoding of channel blobs (undefined: off). */
  readonly deltas: BlobDeltas | undefined;
  /** Compression of channel blobs and pending writes (undefined: off). */
  readonly compression: Compression | undefined;
  /** Resolves once the server is known to be new enough; checked on first use, then remembered. */
  ready(): Promise<void>;
}

export function createSaverContext(options: {
  client: RedisClient;
  keyPrefix: string;
  ttlMs?: number | undefined;
  refreshOnRead: boolean;
  serde: SerializerProtocol;
  durability?: DurabilityOptions | undefined;
  maxValueBytes?: number | undefined;
  blobDeltas?: ParsedBlobDeltasOptions | undefined;
  compression?: ParsedCompressionOptions | undefined;
  /** Overrides SAVER_MIN_SERVER_VERSION (tests). */
  minServerVersion?: readonly [number, number, number];
}): SaverContext {
  registerScripts(options.client);
  const durability = new WriteDurability(options.client, options.durability, "RedisSaver");
  let checked: Promise<void> | undefined;
  return {
    client: options.client,
    keyPrefix: options.keyPrefix,
    ttlMs: options.ttlMs ?? 0,
    refreshOnRead: options.refreshOnRead,
    serde: options.serde,
    durability,
    maxValueBytes: options.maxValueBytes ?? Number.POSITIVE_INFINITY,
    deltas: BlobDeltas.from(options.blobDeltas),
    compression: compressionFrom(options.compression),
    ready() {
      checked ??= requireServerVersion(
        options.client,
        options.minServerVersion ?? SAVER_MIN_SERVER_VERSION,
        "RedisSaver",
      ).catch((error: unknown) => {
        // A verdict on the version is final; a connection failure is not, so the next call checks again.
        if (!(error instanceof UnsupportedServerError)) checked = undefined;
        throw error;
      });
      return checked;
    },
  };
}
