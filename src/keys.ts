/**
 * The one place that builds Redis key names. Every key of one thread (or one store item, or one lock) carries the
 * same cluster hash tag `{...}`, so every script touches one slot; scripts receive all keys in KEYS.
 *
 * Every key starts with the key prefix and KEY_PREFIX_END (`<prefix>|saver:{<thread>}:checkpoints`), so the keys of
 * one prefix are exactly those matching `<prefix>|*`, for any two prefixes (see aclRules).
 *
 * User-supplied parts (thread ids, namespaces, item keys) are escaped with `encodeKeyPart`, so `{`, `}` and `:`
 * in them can neither open a hash tag nor fake a separator. Redis keys are binary-safe, so unicode stays as is.
 */
import { bucketTag, THREAD_BUCKETS } from "./slot.js";

/**
 * What ends the key prefix in every key: a character a prefix cannot contain (keyPrefixSchema refuses it). Prefixes
 * may contain `:`, so with `:` after the prefix the keys of tenant `pa` (`pa:...`) would also match those of tenant
 * `pa:b` (`pa:b:...`), and so would an ACL pattern `~pa:*`. With a terminator no prefix can hold, `pa|` starts the
 * keys of tenant `pa` and of no other tenant, whatever the prefixes.
 */
export const KEY_PREFIX_END = "|";

/** The start of every key under `prefix`: the prefix and its terminator. */
export function keyPrefixStart(prefix: string): string {
  return `${prefix}${KEY_PREFIX_END}`;
}

/** Escapes `%`, `{`, `}` and `:` as %XX; reversible with decodeKeyPart. */
const KEY_PART_NEEDS_ESCAPE = /[%{}:]/;

export function encodeKeyPart(part: string): string {
  // Most parts need no escape; testing first is several times cheaper than a replace with a callback.
  if (!KEY_PART_NEEDS_ESCAPE.test(part)) return part;
  return part.replace(/[%{}:]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

export function decodeKeyPart(encoded: string): string {
  return encoded.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** `{tag}`: the hash tag every key of one unit (thread, item, lock) shares. */
export function hashTag(...parts: readonly string[]): string {
  return `{${parts.map(encodeKeyPart).join(":")}}`;
}

export { bucketTag, THREAD_BUCKETS, threadBucket } from "./slot.js";

// ---- fencing (shared by guard and store) ----

/** Counter of fencing tokens issued for one lock key; INCR on each acquisition. Shares the lock's hash tag. */
export function fenceCounterKey(prefix: string, lockKey: string): string {
  return `${keyPrefixStart(prefix)}fence:${hashTag(lockKey)}`;
}

/** The redis-semaphore Mutex key for one lock key. Same hash tag as its fence counter. */
export function lockKey(prefix: string, lockName: string): string {
  return `${keyPrefixStart(prefix)}lock:${hashTag(lockName)}`;
}

// ---- guard ----

// ---- store ----

/**
 * A namespace as a registry member: its labels joined by NUL. Labels can contain neither NUL nor ":" (LangGraph's
 * validateNamespace rejects both), so the mapping is reversible, and byte order puts every descendant of a namespace
 * right after it, which lets a prefix search read one ZRANGEBYLEX range.
 */
export function storeNamespaceMember(namespace: readonly string[]): string {
  return namespace.join("\u0000");
}

export function storeNamespaceFromMember(member: string): string[] {
  return member.split("\u0000");
}

/** Keys of one store namespace; they share the namespace's hash tag, so one script can update them together. */
export interface StoreNamespaceKeys {
  /** HASH item key -> record (header line + JSON value). */
  readonly items: string;
  /** ZSET item key -> insertion sequence (the order search returns items in). */
  readonly order: string;
  /** ZSET item key -> expiry time (ms since epoch), only items with a TTL. */
  readonly expiry: string;
  /** HASH item key -> float32 embedding vectors, concatenated. */
  readonly vectors: string;
  /** HASH registration bookkeeping for Redis Cluster (epoch, retired). */
  readonly state: string;
}

function storeNamespaceBase(prefix: string, namespace: readonly string[]): string {
  return `${keyPrefixStart(prefix)}store:${hashTag(...namespace)}`;
}

export function storeNamespaceKeys(prefix: string, namespace: readonly string[]): StoreNamespaceKeys {
  const base = storeNamespaceBase(prefix, namespace);
  return {
    items: `${base}:items`,
    order: `${base}:order`,
    expiry: `${base}:expiry`,
    vectors: `${base}:vectors`,
    state: `${base}:state`,
  };
}

/**
 * ZSET of one declared filter field of one namespace (the `filterIndex` option): item key -> the field's value as
 * a number ("number" fields) or a 48-bit hash of it ("string" and "boolean" fields). Same hash tag as the namespace.
 */
export function storeFieldIndexKey(prefix: string, namespace: readonly string[], field: string): string {
  return `${storeNamespaceBase(prefix, namespace)}:fx:${encodeKeyPart(field)}`;
}

/** Keys of one store item that live beside its namespace's keys (same hash tag). */
export interface StoreItemKeys {
  /** ZSET version -> history entry. */
  readonly history: string;
  /** HASH fence lock key -> highest fencing token a write to this item carried. */
  readonly fenceMarks: string;
}

export function storeItemKeys(prefix: string, namespace: readonly string[], key: string): StoreItemKeys {
  const base = storeNamespaceBase(prefix, namespace);
  const item = encodeKeyPart(key);
  return { history: `${base}:history:${item}`, fenceMarks: `${base}:fence:${item}` };
}

/**
 * The namespace registry, read by search and listNamespaces to span every namespace, is spread over
 * STORE_REGISTRY_BUCKETS buckets: a namespace lives in the bucket its member hashes to (storeRegistryBucket), and
 * readers merge the buckets. Each bucket has its own hash tag (bucketTag, shared with the thread registry: bucket b
 * hashes to a slot in the b-th sixteenth of the slot space): however a cluster splits the slots into ranges, the
 * buckets land on every master and no single slot takes every namespace's first write. The tags carry no prefix
 * (the key name does), so every store prefix shares these 16 slots.
 */
export const STORE_REGISTRY_BUCKETS = THREAD_BUCKETS;

/** The registry bucket of a namespace member: FNV-1a of its UTF-8 bytes, modulo the bucket count. */
export function storeRegistryBucket(member: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(member, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % STORE_REGISTRY_BUCKETS;
}

/** Keys of one registry bucket (they share the bucket's hash tag). */
export interface StoreRegistryKeys {
  /** ZSET (all scores 0) of the bucket's namespace members, for lexicographic prefix ranges. */
  readonly names: string;
  /** HASH member -> registration sequence (orders namespaces; doubles as the registration epoch). */
  readonly seq: string;
  /** STRING: the highest registration sequence the bucket has issued (Redis Cluster). */
  readonly clock: string;
}

export function storeRegistryKeys(prefix: string, bucket: number): StoreRegistryKeys {
  const base = `${keyPrefixStart(prefix)}store-registry:{${bucketTag(bucket)}}`;
  return { names: `${base}:names`, seq: `${base}:seq`, clock: `${base}:clock` };
}

/**
 * STRING counter numbering every registration on a standalone server (INCR in the write script): one server, so one
 * counter orders namespaces exactly. On Redis Cluster each bucket issues its own sequences instead (see registry.ts).
 */
export function storeRegistrySequenceKey(prefix: string): string {
  return `${keyPrefixStart(prefix)}store-registry:sequence`;
}

// ---- saver (checkpointer) ----

/**
 * Every key of one checkpointer thread. All of them carry the thread's hash tag, so the write scripts (put,
 * putWrites) and the read script touch one slot; `all` is the order the scripts receive them in KEYS.
 */
export interface SaverThreadKeys {
  /**
   * HASH `ns\0id` -> framed checkpoint record: the refs text the read script parses (parent id, then one
   * `channel\0version` per line), the serialised checkpoint without channel values, and its metadata.
   */
  readonly checkpoints: string;
  /** HASH `ns\0channel\0version` -> framed channel value; written once per (channel, version). */
  readonly blobs: string;
  /**
   * `ns\0id` of every checkpoint in byte order: checkpoints of one namespace, newest last, one lex range. The only
   * checkpoint index: list() across namespaces merges the namespaces' ranges in the read script. A LIST kept sorted
   * (about 40 bytes per checkpoint) for threads this release creates; a ZSET (all scores 0; a skiplist of about 150
   * bytes per checkpoint past 128) for threads of earlier releases, which keep it, and with `compression: false`.
   * Only the Lua include checkpointIndex touches it (checkpointCount reads its size from TypeScript).
   */
  readonly byNamespace: string;
  /**
   * ZSET `id\0ns` written by earlier releases (every namespace by id). No longer written: the thread's next put
   * deletes it. Still listed in `all`, so deleting a thread and TTL refreshes cover it.
   */
  readonly byId: string;
  /**
   * HASH of pending writes, two forms (see src/saver/codec.ts): `ns\0id` (the checkpoint's field, as in
   * `checkpoints`) -> a bundle of the checkpoint's first writes, length-prefixed framed writes within a few KiB; and
   * `ns\0id\0taskId\0idx` -> one framed write that did not fit in the bundle (every write of earlier releases).
   */
  readonly writes: string;
  /** ZSET (all scores 0) of the `writes` fields of the second form, so one checkpoint's are one lex range. */
  readonly writesIndex: string;
  /**
   * HASH run fence field (runFenceField) -> newest lease token of a leased run on this thread: put and putWrites
   * carrying an older token are refused (a run whose lease was taken over). Also the field `pinned` of a pinned
   * thread (pin()); no fence field can be `pinned`, as fence fields always hold two `:`. Only leased or pinned
   * threads have it.
   */
  readonly runFences: string;
  /**
   * ZSET (all scores 0) of `runId\0ns\0\0firstId\0count`, one per (run, namespace) (include runIndex; earlier
   * releases: `runId\0ns\0id` per checkpoint): where deleteForRuns starts looking for a run's checkpoints, one lex
   * range per run. Exists only for threads whose checkpoints carry a run id.
   */
  readonly byRun: string;
  readonly all: readonly string[];
}

export function saverThreadKeys(prefix: string, threadId: string): SaverThreadKeys {
  const base = `${keyPrefixStart(prefix)}saver:${hashTag(threadId)}`;
  const keys = {
    checkpoints: `${base}:checkpoints`,
    blobs: `${base}:blobs`,
    byNamespace: `${base}:idx:ns`,
    byId: `${base}:idx:id`,
    writes: `${base}:writes`,
    writesIndex: `${base}:idx:writes`,
    runFences: `${base}:runs`,
    byRun: `${base}:idx:run`,
  };
  return {
    ...keys,
    all: [
      keys.checkpoints,
      keys.blobs,
      keys.byNamespace,
      keys.byId,
      keys.writes,
      keys.writesIndex,
      keys.runFences,
      keys.byRun,
    ],
  };
}

/**
 * The field of a thread's run fences (SaverThreadKeys.runFences) that one lease scope writes: the lease key prefix,
 * the graph name and the leased checkpoint namespace, each escaped, then "b" (tokens drawn from the bucketed lease
 * counters; fences of the single-counter layout, under fields without it, no longer compare). Lease tokens are
 * only comparable within one field.
 */
export function runFenceField(leasePrefix: string, graphName: string, checkpointNs: string): string {
  return `${[leasePrefix, graphName, checkpointNs].map(encodeKeyPart).join(":")}:b`;
}

/**
 * HASH of the thread ids a run wrote checkpoints to (thread id -> "1"; the run id is the metadata run_id): where
 * deleteForRuns looks for a run's checkpoints. One key per run, in the run's own slot, so no single key takes every
 * write. A hash because Redis 7.0 keeps a small one in a listpack (88 bytes for one thread, against 192 for a SET).
 */
export function saverRunThreadsKey(prefix: string, runId: string): string {
  return `${keyPrefixStart(prefix)}saver-run-threads:${hashTag(runId)}`;
}

/**
 * The SET earlier releases kept for saverRunThreadsKey, in the same slot: deleteForRuns still reads it and takes the
 * threads it cleaned out of it; nothing adds to it any more.
 */
export function saverLegacyRunThreadsKey(prefix: string, runId: string): string {
  return `${keyPrefixStart(prefix)}saver-run:${hashTag(runId)}`;
}

/**
 * The cross-thread index of versions before the thread registry (one ZSET of thread ids scored by last write, in
 * one slot). Still read by list() without a thread_id and cleaned by deleteThread, so threads written before the
 * upgrade stay listed; nothing adds to it any more.
 */
export function saverThreadIndexKey(prefix: string): string {
  return `${keyPrefixStart(prefix)}saver:threads`;
}

/**
 * Keys of one bucket of the thread registry. Threads are spread over THREAD_BUCKETS buckets by a hash of their id
 * (threadBucket), each bucket with its own hash tag in its own part of the slot space, so on a cluster no single
 * key takes the writes of every thread. The three keys of a bucket share its tag: one script keeps them in step.
 */
export interface ThreadRegistryKeys {
  /**
   * ZSET thread id -> server time (ms) of the thread's last write: the cross-thread index list() without a
   * thread_id walks (merged over buckets), and the thread's updatedAt.
   */
  readonly updated: string;
  /** HASH thread id -> record: created time, status and metadata (see src/saver/threads/record.ts). */
  readonly records: string;
  /**
   * ZSET (all scores 0) of index members, ranged by lex, each ending in `<created ms, 15 digits>\0<thread id>` so
   * every range is newest first when read in reverse: `c\0` + that (every thread), `s\0<status>\0` + that, and
   * `m\0<field>\0<value as JSON>\0` + that for each declared metadata field.
   */
  readonly index: string;
}

export function threadRegistryKeys(prefix: string, bucket: number): ThreadRegistryKeys {
  const base = `${keyPrefixStart(prefix)}threads:{${bucketTag(bucket)}}`;
  return { updated: `${base}:updated`, records: `${base}:records`, index: `${base}:index` };
}

// ---- node cache (RedisCache) ----

/** A cache namespace as a registry member: its labels as a JSON array (reversible; [] and [""] stay apart). */
export function cacheNamespaceMember(namespace: readonly string[]): string {
  return JSON.stringify(namespace);
}

export function cacheNamespaceFromMember(member: string): string[] {
  return JSON.parse(member) as string[];
}

/**
 * Keys of one bucket of one cache namespace. A namespace is spread over a fixed number of buckets (entries go to
 * a bucket by a hash of their key), each with its own hash tag, so one busy cached node is not one hot slot; the
 * two keys of a bucket share the tag, so each bucket script touches one slot.
 */
export interface CacheBucketKeys {
  /** HASH cache key -> record ("<expireAtMs or empty>:" .. type .. "\n" .. serialised value). */
  readonly entries: string;
  /** ZSET cache key -> expiry time (ms since epoch, server clock), only entries with a TTL. */
  readonly expiry: string;
}

export function cacheBucketKeys(prefix: string, namespace: readonly string[], bucket: number): CacheBucketKeys {
  // The bucket is always the last part of the tag, and parts are escaped, so two namespaces never share a tag.
  const base = `${keyPrefixStart(prefix)}cache:${hashTag(...namespace, String(bucket))}`;
  return { entries: `${base}:entries`, expiry: `${base}:expiry` };
}

/** ZSET (scores 0) of every namespace the cache has written: what clear() with no namespace walks. Own slot. */
export function cacheRegistryKey(prefix: string): string {
  return `${keyPrefixStart(prefix)}cache-registry:${hashTag(prefix)}`;
}

// ---- key types (to name the key behind a WRONGTYPE reply) ----

const KEY_TYPES: Record<string, readonly [RegExp, string][]> = {
  "saver-run": [[/^$/, "set"]],
  "saver-run-threads": [[/^$/, "hash"]],
  saver: [
    [/^:(checkpoints|blobs|writes|runs)$/, "hash"],
    [/^:idx:ns$/, "zset or list"],
    [/^:idx:(id|writes|run)$/, "zset"],
  ],
  store: [
    [/^:(items|vectors|state)$/, "hash"],
    [/^:(order|expiry)$/, "zset"],
    [/^:history:/, "zset"],
    [/^:fx:/, "zset"],
    [/^:fence:/, "hash"],
  ],
  "store-registry": [
    [/^:names$/, "zset"],
    [/^:seq$/, "hash"],
    [/^:clock$/, "string"],
  ],
  cache: [
    [/^:entries$/, "hash"],
    [/^:expiry$/, "zset"],
  ],
  "cache-registry": [[/^$/, "zset"]],
  threads: [
    [/^:(updated|index)$/, "zset"],
    [/^:records$/, "hash"],
  ],
  fence: [[/^$/, "string"]],
  lock: [[/^$/, "string"]],
  recovery: [
    [/^:leases:[^:]*:expiry$/, "zset"],
    [/^:leases:[^:]*:(holders|runs)$/, "hash"],
    [/^:leases:[^:]*:token$/, "string"],
    [/^:leases:[^:]*:queue:[^:]*:[^:]*$/, "zset"],
    [/^:leases:[^:]*:waiters:[^:]*:[^:]*$/, "hash"],
  ],
};

/**
 * The Redis type the library keeps under `key` ("hash", "zset", "string"; "zset or list" where either form is kept),
 * read back from the key's shape, or undefined for a key it does not recognise. Used only on the error path, to say which key holds a foreign type.
 */
export function expectedKeyType(key: string): string | undefined {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open);
  if (open < 0 || close < 0) {
    if (/\|saver:threads$/.test(key)) return "zset";
    return /\|store-registry:sequence$/.test(key) ? "string" : undefined;
  }
  // the prefix holds no KEY_PREFIX_END, so the kind is what follows the first one: `<prefix>|<kind>:{`
  const head = key.slice(0, open);
  const kind = head.slice(head.indexOf(KEY_PREFIX_END) + 1).split(":")[0] ?? "";
  const suffix = key.slice(close + 1);
  return KEY_TYPES[kind]?.find(([pattern]) => pattern.test(suffix))?.[1];
}

// ---- recovery (run leases) ----
// The lease index of one graph name is spread over THREAD_BUCKETS buckets by the thread id (threadBucket), each
// bucket with the registry's tag for that bucket. A bucket holds a sorted set of leased runs scored by expiry (Redis
// server time, ms), a hash of who holds each lease, a hash of the runs behind the leases (run id, cancel request)
// and a counter issuing lease tokens;
// they share one hash tag, so every lease script touches one slot; finding expired leases reads only the indexes
// (pipelined over buckets), never the threads' keys.

function runLeaseBase(prefix: string, graphName: string, bucket: number): string {
  return `${keyPrefixStart(prefix)}recovery:{${bucketTag(bucket)}}:leases:${encodeKeyPart(graphName)}`;
}

/** Sorted set: run member -> lease expiry (Unix ms, server clock). */
export function runLeaseIndexKey(prefix: string, graphName: string, bucket: number): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:expiry`;
}

/** Hash: run member -> "<token>:<kind>:<sinceMs>:<owner>" (kind is "lease" or "claim"). */
export function runLeaseHoldersKey(prefix: string, graphName: string, bucket: number): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:holders`;
}

/**
 * Hash: run member -> "<token>:<cancel action>:<run id>": the run behind the lease under `token` (its run id, for a
 * rollback) and, once cancelRun asked it to stop, the action ("interrupt" | "rollback"; empty until then).
 */
export function runLeaseRunsKey(prefix: string, graphName: string, bucket: number): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:runs`;
}

/**
 * Counter: INCR issues each lease or claim token of the bucket, so the tokens of one run only ever increase (a run
 * always lives in the same bucket; tokens are compared only within a run).
 */
export function runLeaseTokenKey(prefix: string, graphName: string, bucket: number): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:token`;
}

/**
 * The "enqueue" queue of one run (thread and namespace), in its lease bucket's slot: a sorted set of waiter ids by
 * arrival order. Removed when empty, and expires with its last waiter's keep-alive.
 */
export function runLeaseQueueKey(prefix: string, graphName: string, bucket: number, member: string): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:queue:${member}`;
}

/** Hash beside runLeaseQueueKey: waiter id -> keep-alive deadline (Unix ms, server clock). */
export function runLeaseWaitersKey(prefix: string, graphName: string, bucket: number, member: string): string {
  return `${runLeaseBase(prefix, graphName, bucket)}:waiters:${member}`;
}

/** Index member naming one run: the thread id and checkpoint namespace, each escaped, joined by ":". */
export function runLeaseMember(threadId: string, checkpointNs: string): string {
  return `${encodeKeyPart(threadId)}:${encodeKeyPart(checkpointNs)}`;
}

/** Inverse of runLeaseMember; undefined for a member it did not build. */
export function parseRunLeaseMember(member: string): { threadId: string; checkpointNs: string } | undefined {
  const parts = member.split(":");
  if (parts.length !== 2) return undefined;
  return { threadId: decodeKeyPart(parts[0] ?? ""), checkpointNs: decodeKeyPart(parts[1] ?? "") };
}

// ---- audit trail (outbox streams) ----
// An audited write appends its event to an outbox stream in the same script, so the stream must live in the write's
// slot. On a standalone server there is one stream per key prefix. On a cluster there is one stream per slot: its
// hash tag is a short string chosen to hash to that slot (see src/audit/slots.ts), so a script's keys and its
// stream share a slot without the stream carrying the thread's or item's own tag. The sink finds the streams through
// the registry (a set written before the first audited write to a stream), never by SCAN.

/** STREAM of audit events for the slot whose tag is `slotTag` ("" on a standalone server). */
export function auditStreamKey(prefix: string, slotTag: string): string {
  return `${keyPrefixStart(prefix)}audit:{${slotTag}}:outbox`;
}

/** The key prefix an outbox stream key was built with. */
export function auditStreamPrefix(stream: string): string {
  return stream.replace(/\|audit:\{[^{}]*\}:outbox$/, "");
}

/** SET of every outbox stream key of `prefix`: what the audit sink drains. */
export function auditRegistryKey(prefix: string): string {
  return `${keyPrefixStart(prefix)}audit-streams`;
}
