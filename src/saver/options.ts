import { z } from "zod";
import { auditOptionSchema } from "../audit/outbox.js";
import { compressionOptionsSchema } from "../compression.js";
import { durabilityOptionsSchema } from "../durability.js";
import { InvalidOptionError } from "../errors.js";
import { offlineOptionsSchema } from "../offline/options.js";
import { clientSchema, keyPrefixSchema, parseOptions, serdeSchema, ttlMsSchema } from "../options.js";
import { blobDeltasOptionsSchema } from "./blob-delta.js";
import { deltaHistoryCacheOptionsSchema } from "./delta-history-cache.js";
import { retentionOptionsSchema } from "./retention.js";
import { threadRegistryOptionsSchema } from "./threads/record.js";

/**
 * The saver's `ttl` option: the shared `{ defaultTtlMs, refreshOnRead }` plus what happens when a thread has been
 * idle for defaultTtlMs: "delete" (default) lets Redis expire every key of the thread; "keepLatest" keeps the
 * thread's latest checkpoint (and what it needs) and drops its history, when sweepExpired() finds it idle.
 */
export const saverTtlOptionsSchema = z
  .strictObject({
    /** Idle time (ms) after which the strategy applies; unset = never. */
    defaultTtlMs: ttlMsSchema.optional(),
    /** Reading (getTuple, list) restarts the idle time too. */
    refreshOnRead: z.boolean().default(true),
    /** "delete": the thread's keys expire. "keepLatest": sweepExpired() trims an idle thread to its latest checkpoint. */
    strategy: z.enum(["delete", "keepLatest"]).default("delete"),
  })
  .refine((ttl) => ttl.strategy !== "keepLatest" || ttl.defaultTtlMs !== undefined, {
    message: "a defaultTtlMs (the idle time after which keepLatest trims a thread) with strategy keepLatest",
    path: ["defaultTtlMs"],
  })
  .default({ refreshOnRead: true, strategy: "delete" });

const sharedShape = {
  /** Prefix of every key the saver writes; separates tenants or environments on one server. */
  keyPrefix: keyPrefixSchema,
  /** `{ defaultTtlMs, refreshOnRead }`: idle time (ms) after which every key of a thread expires, restarted by
   * each write and, with refreshOnRead (default true), by each read. Unset: threads never expire. `strategy:
   * "keepLatest"` keeps an idle thread's latest checkpoint instead (sweepExpired()). */
  ttl: saverTtlOptionsSchema,
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
  /** Store a channel value that extends an earlier one (a growing message list) as that version plus the bytes
   * that differ, with a full copy every `maxChain` versions (docs/checkpointer.md). On unless `false`. */
  blobDeltas: blobDeltasOptionsSchema.optional(),
  /** Compress channel values and pending writes of at least `minBytes` with zlib (off unless given). Checkpoint
   * records are packed, and values holding LangChain messages tokenized, unless this is `false`
   * (docs/checkpointer.md). */
  compression: compressionOptionsSchema.optional(),
  /** Persistence check before the first write, and waits for replicas / the AOF after each write
   * (docs/operations.md). */
  durability: durabilityOptionsSchema.optional(),
  /** `{ keepLast }`: keep only the newest keepLast checkpoints of each namespace of a thread (and what they need
   * to be read), trimmed as the thread is written (docs/checkpointer.md, Retention). Default: keep everything. */
  retention: retentionOptionsSchema.optional(),
  /** Audit trail (docs/audit.md): every checkpoint and every set of task writes appends an event to an outbox
   * stream in the same script as the write. `true`, or `{ agentId }`. Default off. */
  audit: auditOptionSchema.optional(),
  /** The thread registry (docs/runs.md): `{ indexedMetadata }` names the metadata fields `saver.threads.search`
   * can filter on (each indexed by the write that sets it). Default: no field indexed. */
  threads: threadRegistryOptionsSchema.optional(),
  /** `{ maxBytes }`: hold the DeltaChannel histories this process read last (one per thread and namespace, within
   * maxBytes, default 32 MiB), so loading a thread again walks only the ancestors written since (docs/checkpointer.md,
   * DeltaChannel). `false`: every load walks back to the snapshot. */
  deltaHistoryCache: deltaHistoryCacheOptionsSchema.optional(),
  /** `true` (default): getTuple's read brings the first page of its checkpoint's DeltaChannel history, which the
   * load LangGraph makes right after takes (docs/checkpointer.md, "The first page comes with the read"). `false`
   * for a process that reads checkpoints without loading their history (dashboards, tools): each load walks then. */
  deltaHistoryReadAhead: z.boolean().optional(),
  /** Ride out Redis outages on a local journal (docs/offline.md): `{ journalDir, maxBytes, maxAgeMs, ... }`.
   * Off unless given. */
  offline: offlineOptionsSchema.optional(),
};

export const redisSaverOptionsSchema = z.strictObject({
  /** The ioredis Redis or Cluster to use. The saver never closes it. */
  client: clientSchema,
  ...sharedShape,
});

/** Options of RedisSaver.fromUrl: everything but the client, which the saver opens (and closes) itself. */
export const redisSaverUrlOptionsSchema = z.strictObject(sharedShape);

export type RedisSaverOptions = z.input<typeof redisSaverOptionsSchema>;
export type RedisSaverUrlOptions = z.input<typeof redisSaverUrlOptionsSchema>;
export type ParsedRedisSaverOptions = z.output<typeof redisSaverOptionsSchema>;

export function parseSaverOptions(input: unknown): ParsedRedisSaverOptions {
  refuseRenamed(input, "RedisSaver");
  return parseOptions(redisSaverOptionsSchema, input, "RedisSaver");
}

export function parseSaverUrlOptions(input: unknown): z.output<typeof redisSaverUrlOptionsSchema> {
  refuseRenamed(input, "RedisSaver.fromUrl");
  return parseOptions(redisSaverUrlOptionsSchema, input, "RedisSaver.fromUrl");
}

/** The options 0.1.0 spelled differently: refused with the new spelling rather than silently ignored. */
const RENAMED = { ttlMs: "ttl: { defaultTtlMs }", refreshOnRead: "ttl: { refreshOnRead }" } as const;

function refuseRenamed(input: unknown, owner: string): void {
  if (input === null || typeof input !== "object") return;
  for (const [old, now] of Object.entries(RENAMED)) {
    if (old in input) {
      const value = (input as Record<string, unknown>)[old];
      throw new InvalidOptionError(`${owner}.${old}`, value, `${now} instead (the option was renamed)`);
    }
  }
}
