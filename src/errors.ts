/**
 * Every error the library throws for a condition a user can hit. Each has its own class (and `name`), keeps the
 * underlying `cause`, and is exported so callers can `instanceof` it. docs/errors.md lists them.
 */

/** Base class of every error thrown by langgraph-redis. */
export class LangGraphRedisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option passed to a constructor or function is invalid. */
export class InvalidOptionError extends LangGraphRedisError {
  constructor(
    readonly option: string,
    readonly received: unknown,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid option \`${option}\`: expected ${expected}, received ${describeValue(received)}`, options);
  }
}

/** A RunnableConfig lacks something the operation needs (thread_id, checkpoint_id) or has a malformed field. */
export class InvalidConfigError extends LangGraphRedisError {}

/** An id, namespace, key or value passed to an operation is not acceptable. Nothing was written. */
export class InvalidInputError extends LangGraphRedisError {}

/** A value is larger than the configured `maxValueBytes`. Nothing was written. */
export class ValueTooLargeError extends LangGraphRedisError {
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`${what} is ${bytes} bytes, more than maxValueBytes (${maxBytes}); nothing was written`);
  }
}

/** Bytes stored under one of our keys cannot be decoded. Names the key; other keys are unaffected. */
export class CorruptDataError extends LangGraphRedisError {
  constructor(
    readonly key: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Corrupt data in Redis key "${key}": ${detail}`, options);
  }
}

/** A stored checkpoint, blob or pending write cannot be decoded. */
export class CorruptCheckpointError extends CorruptDataError {}

/**
 * A stored value is compressed and would inflate to more than `maxValueBytes` (a decompression bomb, or bytes that
 * were never written by this library). Refused before that much memory is taken; other values are unaffected.
 */
export class DecompressionLimitError extends CorruptDataError {
  constructor(
    key: string,
    readonly what: string,
    readonly maxBytes: number,
    options?: { cause?: unknown },
  ) {
    super(key, `${what} would decompress to more than maxValueBytes (${maxBytes} bytes); refused`, options);
  }
}

/**
 * put() was given a checkpoint whose id (a LangGraph id, which holds the time it was made) is older than its parent's:
 * the process that made it runs on a clock behind the one that made the parent. LangGraph and every checkpointer take
 * a thread's newest id as its latest checkpoint, so this one would stay hidden behind its parent. Nothing was written.
 */
export class ClockSkewError extends LangGraphRedisError {
  constructor(
    readonly threadId: string,
    readonly checkpointNs: string,
    readonly checkpointId: string,
    readonly parentId: string,
    /** How far (ms) the checkpoint's id lies before its parent's. */
    readonly behindMs: number,
  ) {
    const gap = behindMs >= 1 ? `${behindMs} ms` : "less than 1 ms";
    super(
      `RedisSaver.put: checkpoint ${JSON.stringify(checkpointId)} of thread ${JSON.stringify(threadId)} was made ` +
        `${gap} before its parent ${JSON.stringify(parentId)} by its ids' clocks: this process's clock is behind ` +
        "the one of the process that wrote the parent, and the thread's latest checkpoint (its newest id) would " +
        "stay the parent. Nothing was written; keep the clocks of every host that runs the graph in sync (NTP)",
    );
  }
}

/** copyThread was asked to copy into a thread that already has data. Nothing was written. */
export class ThreadExistsError extends LangGraphRedisError {
  constructor(readonly threadId: string) {
    super(
      `Thread ${JSON.stringify(threadId)} already exists; copyThread writes only into a thread with no data ` +
        "(delete it first with deleteThread, or pick another id). Nothing was written",
    );
  }
}

/**
 * A thread operation that rewrites or replaces a thread's history (deleteForRuns, prune with strategy "delete",
 * copyThread into it) was refused because a live leased run (withRunLease) is writing the thread: nothing of that
 * thread was changed. Try again once the run has ended (or cancel it: cancelRun with "rollback" removes what it wrote).
 */
export class ThreadLeasedError extends LangGraphRedisError {
  /**
   * Every thread refused, with its live runs: `threadId` and `runIds` are the first of them. deleteForRuns over
   * several threads refuses each leased one and cleans the others; this lists all the refused ones.
   */
  readonly threads: readonly { readonly threadId: string; readonly runIds: readonly string[] }[];

  constructor(
    readonly threadId: string,
    /** The run ids of the live runs on the thread (metadata run_id; "" for a run started without one). */
    readonly runIds: readonly string[],
    readonly operation: string,
    /** Further threads refused by the same call (deleteForRuns). */
    more: readonly { readonly threadId: string; readonly runIds: readonly string[] }[] = [],
  ) {
    const threads = [{ threadId, runIds }, ...more];
    const named = threads.map(
      (thread) =>
        `thread ${JSON.stringify(thread.threadId)} has a live leased run ` +
        `(${thread.runIds.map((id) => JSON.stringify(id)).join(", ")}) writing it`,
    );
    super(
      `${operation} refused: ${named.join("; ")}; nothing of ${threads.length === 1 ? "that thread" : "those threads"} ` +
        "was changed. Try again when the run has ended, or cancel it (cancelRun)",
    );
    this.threads = threads;
  }
}

/** The Redis server lacks a command or feature the operation needs (too old, or a command is disabled). */
export class UnsupportedServerError extends LangGraphRedisError {}

/** The server's persistence settings cannot guarantee what the caller required (see the durability option). */
export class DurabilityError extends LangGraphRedisError {}

/** A compare-and-set write found a different version than expected. Nothing was written. */
export class VersionConflictError extends LangGraphRedisError {
  constructor(
    readonly namespace: readonly string[],
    readonly key: string,
    readonly expectedVersion: number | null,
    readonly actualVersion: number | null,
  ) {
    super(
      `Version conflict on ${JSON.stringify([...namespace, key])}: expected version ${String(expectedVersion)}, ` +
        `found ${String(actualVersion)}`,
    );
  }
}

/**
 * A fenced write was refused: its token is older than the newest issued for its lock key (its holder lost the lock
 * to a newer one). The two subclasses below are the other refusals. Nothing was written.
 */
export class FencedWriteError extends LangGraphRedisError {
  constructor(
    readonly lockKey: string,
    readonly token: number,
    readonly newestToken: number,
    message?: string,
  ) {
    super(
      message ??
        `Write fenced off: token ${token} for lock "${lockKey}" is older than the newest issued token ${newestToken}`,
    );
  }
}

/**
 * A fenced write named a lock key for which no token has been issued under the store's key prefix: the lock was
 * never taken, was taken under another keyPrefix, or its counter expired (fenceTtlMs after its last acquisition).
 * Fencing would be off for such a write, so it is refused. `newestToken` is 0. Nothing was written.
 */
export class UnknownFenceLockError extends FencedWriteError {
  constructor(lockKey: string, token: number) {
    super(
      lockKey,
      token,
      0,
      `Write refused: no fencing token has been issued for lock "${lockKey}" under this key prefix (never taken, ` +
        `taken under another keyPrefix, or its counter expired); a fence must come from currentFence() of a guarded node`,
    );
  }
}

/**
 * A fenced write carried a token newer than any issued for its lock key (forged, or from another lock or prefix).
 * Accepting it would shut the genuine holder out, so it is refused. Nothing was written.
 */
export class FenceTokenNotIssuedError extends FencedWriteError {
  constructor(lockKey: string, token: number, newestToken: number) {
    super(
      lockKey,
      token,
      newestToken,
      `Write refused: token ${token} for lock "${lockKey}" has not been issued (the newest issued is ${newestToken})`,
    );
  }
}

/** A guarded node could not take its lock (onConflict "fail", or the acquire timeout passed). */
export class LockConflictError extends LangGraphRedisError {
  constructor(
    readonly lockKeys: readonly string[],
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? `Lock on ${lockKeys.map((k) => `"${k}"`).join(", ")} is held by another agent`, options);
  }
}

/** A guarded node lost its lock while running (expired, taken over, Redis unreachable); its result is dropped. */
export class LockLostError extends LangGraphRedisError {
  constructor(
    readonly lockKeys: readonly string[],
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? `Lock on ${lockKeys.map((k) => `"${k}"`).join(", ")} was lost while the node ran`, options);
  }
}

/** A run could not start: another live run (or a recoverer's claim) holds the lease on its thread. */
export class RunLeaseHeldError extends LangGraphRedisError {
  constructor(
    readonly threadId: string,
    readonly checkpointNs: string,
    readonly holder: string,
    readonly expiresAt: Date,
  ) {
    super(
      `Thread ${JSON.stringify(threadId)}${checkpointNs ? ` (namespace ${JSON.stringify(checkpointNs)})` : ""} ` +
        `is already running: its lease is held by ${JSON.stringify(holder)} until ${expiresAt.toISOString()}`,
    );
  }
}

/**
 * A run started with the "enqueue" multitask strategy waited `waitedMs` (withRunLease's `enqueueWaitMs`) for the
 * runs queued before it on its thread and did not get the lease; it left the queue and never started.
 */
export class RunQueueTimeoutError extends LangGraphRedisError {
  constructor(
    readonly threadId: string,
    readonly checkpointNs: string,
    readonly waitedMs: number,
    /** Its 0-based place in the thread's queue at its last look (0: next, behind the run in flight). */
    readonly position: number,
  ) {
    super(
      `The run on thread ${JSON.stringify(threadId)}${checkpointNs ? ` (namespace ${JSON.stringify(checkpointNs)})` : ""} ` +
        `waited ${waitedMs} ms in the thread's queue (enqueueWaitMs) without its turn coming (place ${position}); ` +
        "it did not start",
    );
  }
}

/** A run lost its lease while it ran (a recoverer took the run over, or Redis was unreachable); it was aborted. */
export class RunLeaseLostError extends LangGraphRedisError {
  constructor(
    readonly threadId: string,
    readonly checkpointNs: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A run was stopped by cancelRun (from any process), or by a run started on its thread with the "interrupt" or
 * "rollback" multitask strategy. `action` says what happened to what it wrote: "interrupt" keeps its checkpoints
 * (the thread continues from the last one), "rollback" removed them. The run's AbortSignal carries this error.
 */
export class RunCancelledError extends LangGraphRedisError {
  constructor(
    readonly threadId: string,
    readonly checkpointNs: string,
    readonly action: "interrupt" | "rollback",
  ) {
    super(
      `The run on thread ${JSON.stringify(threadId)}${checkpointNs ? ` (namespace ${JSON.stringify(checkpointNs)})` : ""} ` +
        `was cancelled (${action}${action === "rollback" ? ": what it wrote is removed" : ": its checkpoints are kept"})`,
    );
  }
}

/** A run was refused because drainRuns() was called on its leased graph in this process (it takes no new runs). */
export class RunsDrainingError extends LangGraphRedisError {
  constructor(readonly threadId: string) {
    super(
      `The run on thread ${JSON.stringify(threadId)} was refused: this process is draining its runs (drainRuns) ` +
        "and takes no new ones; start it in another process",
    );
  }
}

/**
 * An encrypted record cannot be read, or a record is not encrypted where encryption is required. `key` names the
 * Redis key the record came from when the reader knows it (the serializer alone does not: the saver and the cache
 * add it).
 */
export class EncryptionError extends LangGraphRedisError {
  readonly key: string | undefined;
  constructor(message: string, options?: { cause?: unknown; key?: string | undefined }) {
    super(options?.key === undefined ? message : `${message} (Redis key "${options.key}")`, options);
    this.key = options?.key;
  }
}

/** An encrypted record failed authentication (changed, truncated, moved to another item) or is malformed. */
export class TamperedRecordError extends EncryptionError {}

/** A record was encrypted with a key id the reader was not given (rotation: keep old keys in `keys`). */
export class UnknownEncryptionKeyError extends EncryptionError {
  constructor(
    readonly keyId: string,
    message: string,
    options?: { cause?: unknown; key?: string | undefined },
  ) {
    super(message, options);
  }
}

/** `requireEncrypted` is on and a record is plaintext: refused, since anyone able to write Redis could plant it. */
export class PlaintextRecordError extends EncryptionError {}

/** The same encryption error, now naming the Redis key the record was read from. */
export function encryptionErrorAt(error: EncryptionError, key: string): EncryptionError {
  if (error.key !== undefined) return error;
  const message = error.message;
  if (error instanceof UnknownEncryptionKeyError) {
    return new UnknownEncryptionKeyError(error.keyId, message, { cause: error.cause, key });
  }
  const Kind = error.constructor as new (m: string, o?: { cause?: unknown; key?: string }) => EncryptionError;
  return new Kind(message, { cause: error.cause, key });
}

/**
 * A recoverer's claim on a crashed run could not be turned into a lease: another recoverer took the run over after
 * the claim expired, or the run left the index. resumeCrashedRuns reports the run as skipped ("claimed-elsewhere").
 */
export class ClaimLostError extends LangGraphRedisError {}

/** Redis could not be reached, or the connection dropped, while an operation ran. */
export class RedisConnectionError extends LangGraphRedisError {}

/** The Redis ACL user may not run a command or touch a key the operation needs (a NOPERM reply). */
export class RedisPermissionError extends LangGraphRedisError {}

/** The audit sink or an audit query could not use PostgreSQL (no `pg` installed, a failed migration, a bad
 * cursor). Events are never lost by it: undelivered ones stay in their Redis stream. */
export class AuditError extends LangGraphRedisError {}

/** Short, safe rendering of a received value for error messages (never dumps large values). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  if (typeof value === "number" && !Number.isFinite(value)) text = String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The offline journal (RedisSaver / RedisStore `offline` option) could not be used: docs/offline.md. */
export class OfflineJournalError extends LangGraphRedisError {}

/**
 * The offline journal is full: storing the write would pass `maxBytes`, or its oldest record is older than
 * `maxAgeMs`. The write was not stored anywhere (neither Redis nor the journal) and the call failed.
 */
export class JournalFullError extends OfflineJournalError {
  constructor(
    readonly file: string,
    readonly bound: "bytes" | "age",
    detail: string,
  ) {
    super(`The offline journal ${file} is full: ${detail}; the write was not stored (Redis is unreachable)`);
  }
}

/**
 * The offline journal had a truncated or corrupt tail (a partial last record, a flipped byte): the intact records
 * before it are replayed, the rest was moved to `asideFile` and is never applied.
 */
export class JournalCorruptError extends OfflineJournalError {
  readonly problem: string;
  readonly intactRecords: number;
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly bytesSetAside: number,
    readonly asideFile: string,
    detail: { problem: string; intactRecords: number },
  ) {
    super(
      `The offline journal ${file} is corrupt from byte ${offset} (${detail.problem}): the ${detail.intactRecords} ` +
        `intact record(s) before it are replayed; the ${bytesSetAside} byte(s) from there on were moved to ` +
        `${asideFile} and are not applied`,
    );
    this.problem = detail.problem;
    this.intactRecords = detail.intactRecords;
  }
}

/** Another live process holds the offline journal (two processes must not share one journalDir). */
export class JournalLockedError extends OfflineJournalError {
  constructor(
    readonly file: string,
    readonly holderPid: number,
  ) {
    super(
      `The offline journal ${file} is in use by process ${holderPid}; give each process (and each saver or store) ` +
        "its own journalDir",
    );
  }
}

/**
 * Redis is unreachable and this process holds no local state for what was asked (a thread or item it has neither
 * written nor read since it started, or a checkpoint it never saw). A RedisConnectionError, so code that handles
 * outages already handles it.
 */
export class OfflineReadError extends RedisConnectionError {}

/**
 * A guarded() node could not take its lock because Redis stayed unreachable for `offlineWaitMs`; the node did not
 * run. The run fails here and can be resumed once Redis is back (or choose `offline: "proceed"`: docs/offline.md).
 */
export class OfflineLockError extends RedisConnectionError {
  constructor(
    readonly lockKeys: readonly string[],
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `guarded(): Redis stayed unreachable for ${waitedMs} ms while taking lock ` +
        `${lockKeys.map((key) => `"${key}"`).join(", ")}; the node did not run (resume the run once Redis is back)`,
      options,
    );
  }
}
