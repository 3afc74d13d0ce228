/**
 * The `offline` option of RedisSaver and RedisStore (docs/offline.md): where the journal lives, how large and how old
 * it may grow, and how quickly an outage is noticed and the end of one probed.
 */
import { z } from "zod";
import { durationMsSchema } from "../options.js";

export const offlineOptionsSchema = z.strictObject({
  /** Directory of the journal files (created if missing). One process, and one saver or store, per directory. */
  journalDir: z.string().min(1),
  /** Largest size of the journal, in bytes; a write that would pass it fails with JournalFullError. */
  maxBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 40)
    .default(64 * 1024 * 1024),
  /** Longest an outage may be ridden out, in ms: once the oldest journaled write is older, writes fail with
   * JournalFullError. Default 24 hours. */
  maxAgeMs: durationMsSchema.default(24 * 60 * 60 * 1000),
  /** How long a call may wait for Redis before Redis counts as unreachable, in ms (default 2000). A client that is
   * not connected at all counts as unreachable at once. */
  unreachableAfterMs: durationMsSchema.default(2000),
  /** How often, while offline, the client is checked and pinged to find Redis back, in ms (default 500). */
  probeIntervalMs: durationMsSchema.default(500),
  /** Threads (saver) or namespaces (store) whose last known state is kept in memory for reads while offline. */
  cacheEntries: z.number().int().positive().max(1_000_000).default(1000),
});

export type OfflineOptions = z.input<typeof offlineOptionsSchema>;
export type ParsedOfflineOptions = z.output<typeof offlineOptionsSchema>;
