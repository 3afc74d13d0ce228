/**
 * What every saver operation module needs: the shared context (client, key prefix, durability, ready()), plus the
 * TTL settings, the serializer and the value size limit.
 */
import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../client.js";
import { createRedisContext, MIN_SERVER_VERSION, type RedisContext } from "../context.js";
import type { DurabilityOptions } from "../durability.js";
import { CorruptCheckpointError } from "../errors.js";

export interface SaverContext extends RedisContext {
  /** 0 when threads never expire (the scripts' convention). */
  readonly ttlMs: number;
  readonly refreshOnRead: boolean;
  readonly serde: SerializerProtocol;
  /** Largest serialised value a write accepts (bytes). */
  readonly maxValueBytes: number;
}

export function createSaverContext(options: {
  client: RedisClient;
  keyPrefix: string;
  ttl: { defaultTtlMs?: number | undefined; refreshOnRead: boolean };
  serde: SerializerProtocol;
  durability?: DurabilityOptions | undefined;
  maxValueBytes?: number | undefined;
  /** Overrides MIN_SERVER_VERSION (tests). */
  minServerVersion?: readonly [number, number, number];
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
    ttlMs: options.ttl.defaultTtlMs ?? 0,
    refreshOnRead: options.ttl.refreshOnRead,
    serde: options.serde,
    maxValueBytes: options.maxValueBytes ?? Number.POSITIVE_INFINITY,
  };
}
