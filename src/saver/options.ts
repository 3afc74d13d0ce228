import type { SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { z } from "zod";
import { durabilityOptionsSchema } from "../durability.js";
import { clientSchema, durationMsSchema, keyPrefixSchema, parseOptions } from "../options.js";

const serdeSchema = z.custom<SerializerProtocol>(
  (value) =>
    value !== null &&
    typeof value === "object" &&
    typeof (value as { dumpsTyped?: unknown }).dumpsTyped === "function" &&
    typeof (value as { loadsTyped?: unknown }).loadsTyped === "function",
  { message: "a serializer with dumpsTyped() and loadsTyped()" },
);

const sharedShape = {
  /** Prefix of every key the saver writes; separates tenants or environments on one server. */
  keyPrefix: keyPrefixSchema,
  /** Idle time (ms) after which every key of a thread expires; each write restarts it. Unset: never expire. */
  ttlMs: durationMsSchema.optional(),
  /** Reads restart the thread's TTL too (needs ttlMs). */
  refreshOnRead: z.boolean().default(false),
  /** Serializer for checkpoints, metadata, channel values and writes. Default: LangGraph's JsonPlusSerializer. */
  serde: serdeSchema.optional(),
  /** Largest serialised value (a channel value, a pending write, a checkpoint record) a write accepts, in bytes;
   * larger ones throw ValueTooLargeError before anything is written. */
  maxValueBytes: z
    .number()
    .int()
    .positive()
    .max(512 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Persistence check before the first write, and waits for replicas / the AOF after each write
   * (docs/operations.md). */
  durability: durabilityOptionsSchema.optional(),
};

function refreshNeedsTtl(options: { ttlMs?: number | undefined; refreshOnRead: boolean }, ctx: z.RefinementCtx) {
  if (options.refreshOnRead && options.ttlMs === undefined) {
    ctx.addIssue({ code: "custom", path: ["refreshOnRead"], message: "false unless ttlMs is set" });
  }
}

export const redisSaverOptionsSchema = z
  .strictObject({
    /** The ioredis Redis or Cluster to use. The saver never closes it. */
    client: clientSchema,
    ...sharedShape,
  })
  .superRefine(refreshNeedsTtl);

/** Options of RedisSaver.fromUrl: everything but the client, which the saver opens (and closes) itself. */
export const redisSaverUrlOptionsSchema = z.strictObject(sharedShape).superRefine(refreshNeedsTtl);

export type RedisSaverOptions = z.input<typeof redisSaverOptionsSchema>;
export type RedisSaverUrlOptions = z.input<typeof redisSaverUrlOptionsSchema>;
export type ParsedRedisSaverOptions = z.output<typeof redisSaverOptionsSchema>;

export function parseSaverOptions(input: unknown): ParsedRedisSaverOptions {
  return parseOptions(redisSaverOptionsSchema, input, "RedisSaver");
}

export function parseSaverUrlOptions(input: unknown): z.output<typeof redisSaverUrlOptionsSchema> {
  return parseOptions(redisSaverUrlOptionsSchema, input, "RedisSaver.fromUrl");
}
