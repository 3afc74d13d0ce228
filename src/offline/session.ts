/**
 * The online/offline switch shared by RedisSaver and RedisStore (docs/offline.md).
 *
 * - online: calls go to Redis, bounded by `unreachableAfterMs`; a client that is reconnecting or closed counts as
 *   unreachable at once (nothing is queued in ioredis' offline queue). A call that fails with a connection error (or
 *   times out) switches to offline, and the write goes to the journal instead.
 * - offline: writes are appended to the journal (fsynced before the call returns); a probe checks the client every
 *   `probeIntervalMs` and, once Redis answers PING, starts the replay.
 * - replaying: the journal's records are applied in order by the owner's Replayer; writes arriving meanwhile still go
 *   to the journal (behind the records being replayed), so no new write reaches Redis before an older one. When the
 *   journal is empty it is cleared and the state is online again. An outage during the replay goes back to offline;
 *   a crash leaves the journal whole, and the next start replays it (every record is idempotent).
 *
 * Every switch is an event ("offline", "online" with the ReplayResult), a debug log line and a metric.
 */
import { EventEmitter } from "node:events";
import { appendFile } from "node:fs/promises";
import type { RedisClient } from "../client.js";
import { type JournalCorruptError, LangGraphRedisError, RedisConnectionError } from "../errors.js";
import { log } from "../log.js";
import { isConnectionError } from "../redis-errors.js";
import { countEvent } from "../telemetry/index.js";
import { ATTR } from "../telemetry/names.js";
import { encodeRecord, Journal, type JournalRecord, type RecordHeader } from "./journal.js";
import type { ParsedOfflineOptions } from "./options.js";

export type OfflineState = "online" | "offline" | "replaying";

/** Another process changed what this one wrote offline; both sides were kept. */
export type OfflineConflict =
  | {
      readonly kind: "thread";
      readonly threadId: string;
      readonly checkpointNs: string;
      /** Why: another process advanced the thread, or a newer run lease fenced this run's writes off. */
      readonly reason: "advanced" | "fenced";
      /** The thread the offline checkpoints and writes were written to instead (a fork of threadId). */
      readonly forkThreadId: string;
      /** The checkpoint the offline branch started from (its first checkpoint's parent). */
      readonly baseCheckpointId: string | undefined;
      /** The newest checkpoint another process wrote to threadId meanwhile. */
      readonly remoteCheckpointId: string | undefined;
      /** The offline checkpoints now in forkThreadId, in order. */
      readonly checkpointIds: string[];
    }
  | {
      readonly kind: "item";
      readonly namespace: string[];
      readonly key: string;
      readonly reason: "version" | "fenced";
      /** The version this process wrote on top of (null: the item did not exist). */
      readonly expectedVersion: number | null;
      /** The version another process left meanwhile. */
      readonly remoteVersion: number | null;
      /** The version the offline value was written as (both values are in the item's history). */
      readonly storedVersion: number | null;
    };

/** A record Redis refused for another reason than a conflict: kept aside (`file`) and reported, never dropped. */
export interface RejectedRecord {
  readonly seq: number;
  readonly error: Error;
  readonly file: string;
}

export interface ReplayResult {
  /** Records replayed onto their own thread or item. */
  readonly applied: number;
  /** Records written to a fork (thread conflicts) or as a conflicting version (store). */
  readonly forked: number;
  readonly conflicts: OfflineConflict[];
  readonly rejected: RejectedRecord[];
  /** Set when the journal had a corrupt tail at start (moved aside, not applied). */
  readonly corruption: JournalCorruptError | undefined;
  readonly durationMs: number;
}

export interface OfflineEvents {
  offline: [{ component: string; reason: string; pendingRecords: number }];
  online: [ReplayResult];
  conflict: [OfflineConflict];
  corrupt: [JournalCorruptError];
}

/** Applies journal records to Redis for one owner (the saver, the store). */
export interface Replayer {
  /** Applies one record; "forked" when it went to a fork / conflict version. Throws an outage error if Redis left. */
  apply(record: JournalRecord, upcoming: readonly JournalRecord[]): Promise<"applied" | "forked">;
  /** Conflicts found since the last call (the replayer forgets them). */
  takeConflicts(): OfflineConflict[];
  /** The journal is empty: drop what was kept for this replay. */
  finished(): void;
}

/** The method of a RedisSaver with the `offline` option that withRunLease uses to order lease and replay. */
export const OFFLINE_SESSION = Symbol.for("langgraph-redis.offlineSession");

/** Raised internally when a call waited longer than unreachableAfterMs. */
class UnreachableError extends RedisConnectionError {}

export class OfflineSession {
  readonly events = new EventEmitter<OfflineEvents>();
  readonly component: string;
  readonly #client: RedisClient;
  readonly #options: ParsedOfflineOptions;
  readonly #opened: Promise<void>;
  #journal: Journal | undefined;
  #replayer: Replayer | undefined;
  #state: OfflineState = "online";
  readonly #pending: JournalRecord[] = [];
  #appending = 0;
  #replaying: Promise<ReplayResult> | undefined;
  #corruption: JournalCorruptError | undefined;
  #probe: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #beforeReplay = new Set<() => Promise<void>>();

  constructor(client: RedisClient, options: ParsedOfflineOptions, name: string, component: string) {
    this.#client = client;
    this.#options = options;
    this.component = component;
    this.#opened = Journal.open({
      dir: options.journalDir,
      name,
      maxBytes: options.maxBytes,
      maxAgeMs: options.maxAgeMs,
    }).then(({ journal, records, corruption }) => {
      this.#journal = journal;
      this.#pending.push(...records);
      this.#corruption = corruption;
      if (corruption !== undefined) {
        log("%s offline journal: %s", component, corruption.message);
        this.#emit("corrupt", corruption);
      }
      if (records.length > 0) {
        log("%s offline journal: %d record(s) left by an earlier process, replaying", component, records.length);
        this.#switchTo("offline", `the journal holds ${records.length} record(s) from an earlier run`);
        void this.#tick();
      }
    });
    // A failure to open is reported by every call (ready()); keep it from being an unhandled rejection here.
    this.#opened.catch(() => undefined);
  }

  /** Set by the owner once it can replay (its context exists). */
  attach(replayer: Replayer): void {
    this.#replayer = replayer;
  }

  /**
   * Registers work that must reach Redis before any journal record does (a run lease re-validated before the run's
   * writes are replayed: docs/offline.md). Returns the function that unregisters it.
   */
  onBeforeReplay(hook: () => Promise<void>): () => void {
    this.#beforeReplay.add(hook);
    return () => this.#beforeReplay.delete(hook);
  }

  /** Resolves once the journal is empty and the state is online (at once when it already is). */
  whenOnline(): Promise<void> {
    return this.#opened.then(() => {
      if (this.#state === "online" && this.#pending.length === 0) return;
      return new Promise<void>((resolve) => this.events.once("online", () => resolve()));
    });
  }

  get state(): OfflineState {
    return this.#state;
  }

  /** Records in the journal not yet replayed. */
  get pendingRecords(): readonly JournalRecord[] {
    return this.#pending;
  }

  /** Resolves once the journal is open (throws its error, e.g. JournalLockedError). */
  ready(): Promise<void> {
    return this.#opened;
  }

  /** True when `error` means Redis cannot be reached now (these switch to offline; other errors pass through). */
  isOutage(error: unknown): boolean {
    return isConnectionError(error);
  }

  /**
   * Runs `fn` against Redis, bounded: refused at once when the client is reconnecting or closed, and abandoned
   * (RedisConnectionError) after unreachableAfterMs. An abandoned write may still reach Redis later; every journaled
   * write is idempotent, so its replay changes nothing then.
   */
  bounded<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const status = this.#client.status;
    if (status === "reconnecting" || status === "close" || status === "end") {
      return Promise.reject(new RedisConnectionError(`${what}: the Redis client is not connected (${status})`));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new UnreachableError(
              `${what}: Redis did not answer within unreachableAfterMs (${this.#options.unreachableAfterMs} ms)`,
            ),
          ),
        this.#options.unreachableAfterMs,
      );
      fn().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * A write: to Redis while online (bounded); else, or when Redis turns out to be unreachable, `offline()` (which
   * journals it through append()).
   */
  async write<T>(what: string, online: () => Promise<T>, offline: () => Promise<T>): Promise<T> {
    await this.#opened;
    if (this.#state === "online") {
      try {
        return await this.bounded(online, what);
      } catch (error) {
        if (!this.isOutage(error)) throw error;
        this.goOffline(error);
      }
    }
    return offline();
  }

  /** Appends a record to the journal (durable when this resolves) and queues it for replay. */
  async append(header: RecordHeader, body: Buffer): Promise<JournalRecord> {
    await this.#opened;
    const journal = this.#journal as Journal;
    this.#appending += 1;
    try {
      const record = await journal.append(header, body);
      this.#pending.push(record);
      countEvent("offlineJournaled", { [ATTR.component]: this.component });
      return record;
    } finally {
      this.#appending -= 1;
    }
  }

  /** Switches to offline (if online) after `error`, and starts probing for Redis. */
  goOffline(error: unknown): void {
    if (this.#state !== "online") return;
    this.#switchTo("offline", error instanceof Error ? error.message : String(error));
  }

  #switchTo(state: OfflineState, reason: string): void {
    const was = this.#state;
    this.#state = state;
    if (state === "offline" && was === "online") {
      log("%s offline: %s; writes go to the journal until Redis answers", this.component, reason);
      countEvent("offlineTransitions", { [ATTR.component]: this.component, [ATTR.offlineState]: "offline" });
      this.#emit("offline", { component: this.component, reason, pendingRecords: this.#pending.length });
    }
    if (state !== "online") this.#startProbe();
    else this.#stopProbe();
  }

  #startProbe(): void {
    if (this.#probe !== undefined || this.#closed) return;
    this.#probe = setInterval(() => void this.#tick(), this.#options.probeIntervalMs);
    this.#probe.unref();
  }

  #stopProbe(): void {
    if (this.#probe !== undefined) clearInterval(this.#probe);
    this.#probe = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#state !== "offline" || this.#replaying !== undefined || this.#closed) return;
    try {
      await this.replay();
    } catch {
      // still unreachable: the next tick tries again
    }
  }

  /**
   * Replays the journal now (if Redis answers) and resolves with what happened once it is empty and the state is
   * online; rejects with the outage error when Redis is still unreachable (the probe keeps trying).
   */
  replay(): Promise<ReplayResult> {
    if (this.#replaying !== undefined) return this.#replaying;
    const run = this.#runReplay().finally(() => {
      this.#replaying = undefined;
    });
    this.#replaying = run;
    return run;
  }

  async #runReplay(): Promise<ReplayResult> {
    await this.#opened;
    const started = performance.now();
    const journal = this.#journal as Journal;
    const replayer = this.#replayer;
    if (replayer === undefined) throw new LangGraphRedisError(`${this.component}: nothing can replay the journal yet`);
    await this.bounded(() => this.#client.ping(), `${this.component}: probing Redis`);
    for (const hook of [...this.#beforeReplay]) {
      try {
        await this.bounded(hook, `${this.component}: before the replay`);
      } catch (error) {
        if (this.isOutage(error)) throw error;
        log("%s: a pre-replay step failed: %s", this.component, String(error));
      }
    }
    if (this.#state === "offline") this.#state = "replaying";
    let applied = 0;
    let forked = 0;
    const conflicts: OfflineConflict[] = [];
    const rejected: RejectedRecord[] = [];
    try {
      for (;;) {
        const record = this.#pending[0];
        if (record !== undefined) {
          try {
            const outcome = await this.bounded(
              () => replayer.apply(record, this.#pending),
              `${this.component}: replaying journal record ${record.seq}`,
            );
            if (outcome === "applied") applied += 1;
            else forked += 1;
            countEvent("offlineReplayed", { [ATTR.component]: this.component, [ATTR.outcome]: outcome });
          } catch (error) {
            if (this.isOutage(error)) throw error;
            rejected.push(await this.#setAside(journal, record, error));
            countEvent("offlineReplayed", { [ATTR.component]: this.component, [ATTR.outcome]: "rejected" });
          }
          this.#pending.shift();
          for (const conflict of replayer.takeConflicts()) {
            conflicts.push(conflict);
            countEvent("offlineReplayed", { [ATTR.component]: this.component, [ATTR.outcome]: "conflict" });
          }
          continue;
        }
        if (this.#appending > 0 || journal.busy) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        // Nothing left and nothing being appended: empty the file (an append after this point lands after the
        // truncation), then go online unless a record arrived meanwhile.
        await journal.clear();
        if (this.#pending.length > 0 || this.#appending > 0 || journal.busy) continue;
        replayer.finished();
        const result: ReplayResult = {
          applied,
          forked,
          conflicts,
          rejected,
          corruption: this.#corruption,
          durationMs: performance.now() - started,
        };
        this.#corruption = undefined;
        this.#state = "online";
        this.#stopProbe();
        log(
          "%s online: replayed %d record(s) (%d to forks, %d conflict(s), %d rejected)",
          this.component,
          applied + forked + rejected.length,
          forked,
          conflicts.length,
          rejected.length,
        );
        countEvent("offlineTransitions", { [ATTR.component]: this.component, [ATTR.offlineState]: "online" });
        for (const conflict of conflicts) this.#emit("conflict", conflict);
        this.#emit("online", result);
        return result;
      }
    } catch (error) {
      // Redis went away again: back to offline; what was replayed stays replayed (and is idempotent if repeated).
      for (const conflict of conflicts) this.#emit("conflict", conflict);
      this.#state = "offline";
      this.#startProbe();
      throw error;
    }
  }

  /** Writes a record Redis refused next to the journal (`<journal>.rejected`), so it is kept, and reports it. */
  async #setAside(journal: Journal, record: JournalRecord, error: unknown): Promise<RejectedRecord> {
    const file = `${journal.file}.rejected`;
    await appendFile(file, encodeRecord(record.header, record.body), { flush: true });
    const failure = error instanceof Error ? error : new Error(String(error));
    log("%s replay: record %d refused (%s); kept in %s", this.component, record.seq, failure.message, file);
    return { seq: record.seq, error: failure, file };
  }

  #emit<E extends keyof OfflineEvents>(event: E, ...args: OfflineEvents[E]): void {
    try {
      (this.events.emit as (event: E, ...args: OfflineEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      log("%s: a %s listener threw: %s", this.component, event, String(error));
    }
  }

  /** Stops probing and closes the journal (its records stay on disk for the next start). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopProbe();
    await this.#opened.catch(() => undefined);
    await this.#replaying?.catch(() => undefined);
    await this.#journal?.close();
  }
}
