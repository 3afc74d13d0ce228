/**
 * What this process last wrote or read for each thread, in memory, so getTuple, list and getDeltaChannelHistory can
 * answer while Redis is unreachable: per thread and namespace the newest checkpoint known from Redis, plus every
 * checkpoint written while offline (until the journal is replayed), each with its pending writes. Once a
 * checkpoint's DeltaChannel history was read from Redis (which the saver then holds), the checkpoints known from
 * Redis since stay too, so the history of a later checkpoint is that history plus their writes (LangGraph reads it
 * at the start of each invoke: about one turn's checkpoints). Threads are evicted least recently used first beyond
 * `limit`; a thread with offline checkpoints is never evicted (its journal records hold them anyway).
 *
 * Values are kept as the saver's serializer wrote them at the call that handed them over (or right after the read
 * that returned them) and decoded anew for every read, as a read from Redis would be: a node that changes its state
 * in place, or a reducer that appends to the array it is given, changes nothing this process answers offline.
 */

import { isDeepStrictEqual } from "node:util";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  type DeltaChannelHistory,
  type PendingWrite,
  WRITES_IDX_MAP,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { asBuffer } from "../../saver/codec.js";
import type { SaverContext } from "../../saver/context.js";
import { loadValue } from "../../saver/decode.js";
import { updatesSinceSnapshot } from "../../saver/delta-counters.js";
import { dumpCheckpointValue } from "../../saver/dump-checkpoint-value.js";
import type { PutDumps } from "../../saver/put.js";

/** A value as the saver serialises it: decoded anew (thaw) for every read. */
type Frozen = Promise<[string, Uint8Array]>;

/** A channel value kept with its version: a thread's checkpoints share the value of a version (versions are unique
 * per value), so one that changed no channel costs no copy of the others. */
interface KeptValue {
  /** undefined for a value without a version, which is never shared. */
  readonly version: string | undefined;
  readonly value: Frozen;
}

/** A checkpoint as kept: what put() stored, or what a read returned. */
interface KeptCheckpoint {
  /** The checkpoint without its channel values. */
  readonly skeleton: Frozen;
  readonly values: ReadonlyMap<string, KeptValue>;
  readonly metadata: Frozen | undefined;
}

interface StoredWrite {
  readonly taskId: string;
  readonly taskPath: string;
  readonly idx: number;
  readonly channel: string;
  readonly value: Frozen;
}

interface Entry {
  checkpoint: KeptCheckpoint | undefined;
  parentId: string | undefined;
  /** Written while offline (kept until the journal is replayed). */
  offline: boolean;
  readonly writes: Map<string, StoredWrite>;
  /** Its DeltaChannel history was read from Redis (the saver holds it, src/saver/delta-history-cache.ts). */
  historyRead?: boolean;
}

/** ns -> checkpoint id -> entry */
type ThreadState = Map<string, Map<string, Entry>>;

export class SaverShadow {
  readonly #threads = new Map<string, ThreadState>();
  readonly #limit: number;
  readonly #context: SaverContext;

  constructor(limit: number, context: SaverContext) {
    this.#limit = limit;
    this.#context = context;
  }

  /**
   * The value as it is now, serialised as put() serialises values (the saver's own JSON writer for LangGraph's
   * serializer, or the serde's dumpsTyped, which reads the value before its first await): the caller may change it
   * as soon as this returns. A serializer hands a Uint8Array back as it is, so one is copied first. A value that
   * cannot be serialised fails the read that thaws it (put() itself refuses it first).
   */
  #freeze(value: unknown): Frozen {
    const frozen = dumpCheckpointValue(
      this.#context.serde,
      value instanceof Uint8Array ? value.slice() : value,
      () => "a value kept for offline reads",
    );
    frozen.catch(() => undefined);
    return frozen;
  }

  async #thaw<T>(frozen: Frozen): Promise<T> {
    const [type, bytes] = await frozen;
    const source = { key: "offline local state", what: "a value this process kept for offline reads" };
    return (await loadValue(this.#context, Buffer.from(type), asBuffer(bytes), source)) as T;
  }

  /**
   * A checkpoint as it is now (or as put() serialised it: `dumps`), to keep: each channel value is taken from
   * `dumps`, else shared with a checkpoint of the namespace kept with the same version, else serialised here.
   */
  keep(
    threadId: string,
    ns: string,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata | undefined,
    dumps?: PutDumps,
  ): KeptCheckpoint {
    const entries = this.#threads.get(threadId)?.get(ns);
    const values = new Map<string, KeptValue>();
    for (const [channel, value] of Object.entries(checkpoint.channel_values ?? {})) {
      const versioned = checkpoint.channel_versions?.[channel];
      const version = versioned === undefined ? undefined : String(versioned);
      const dumped = dumps?.values.get(channel);
      let kept = dumped && Promise.resolve(dumped);
      if (kept === undefined && version !== undefined) {
        for (const entry of entries?.values() ?? []) {
          const same = entry.checkpoint?.values.get(channel);
          if (same?.version === version) {
            kept = same.value;
            break;
          }
        }
      }
      values.set(channel, { version, value: kept ?? this.#freeze(value) });
    }
    return {
      skeleton: dumps ? Promise.resolve(dumps.checkpoint) : this.#freeze({ ...checkpoint, channel_values: {} }),
      values,
      metadata: dumps ? Promise.resolve(dumps.metadata) : metadata === undefined ? undefined : this.#freeze(metadata),
    };
  }

  /** Call at the start of putWrites(), before anything is awaited: what rememberWrites keeps. */
  freezeWrites(writes: PendingWrite[]): [string, Frozen][] {
    return writes.map(([channel, value]) => [channel, this.#freeze(value)]);
  }

  /** Whether the thread has checkpoints or writes written offline and not yet replayed. */
  hasOffline(threadId: string): boolean {
    const thread = this.#threads.get(threadId);
    if (thread === undefined) return false;
    for (const entries of thread.values()) for (const entry of entries.values()) if (entry.offline) return true;
    return false;
  }

  knows(threadId: string): boolean {
    return this.#threads.has(threadId);
  }

  #thread(threadId: string): ThreadState {
    let thread = this.#threads.get(threadId);
    if (thread === undefined) {
      thread = new Map();
      this.#evict();
    } else this.#threads.delete(threadId);
    this.#threads.set(threadId, thread);
    return thread;
  }

  #evict(): void {
    for (const [threadId] of this.#threads) {
      if (this.#threads.size < this.#limit) return;
      if (!this.hasOffline(threadId)) this.#threads.delete(threadId);
    }
  }

  #entry(threadId: string, ns: string, checkpointId: string, offline: boolean): Entry {
    const thread = this.#thread(threadId);
    let entries = thread.get(ns);
    if (entries === undefined) {
      entries = new Map();
      thread.set(ns, entries);
    }
    let entry = entries.get(checkpointId);
    if (entry === undefined) {
      entry = { checkpoint: undefined, parentId: undefined, offline, writes: new Map() };
      entries.set(checkpointId, entry);
    }
    if (offline) entry.offline = true;
    return entry;
  }

  /**
   * Keeps, of the checkpoints known from Redis, the newest of the namespace and, when one holds a DeltaChannel
   * history, the newest such and every one after it (offline ones all stay).
   */
  #trim(threadId: string, ns: string): void {
    const entries = this.#threads.get(threadId)?.get(ns);
    if (entries === undefined) return;
    const online = [...entries].filter(([, entry]) => !entry.offline && entry.checkpoint !== undefined);
    online.sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
    const holder = online.findIndex(([, entry]) => entry.historyRead === true);
    const kept = Math.max(1, holder + 1);
    for (const [id] of online.slice(kept)) entries.delete(id);
    // Writes known from Redis for a checkpoint older than those kept, whose put this process never saw.
    const oldest = online[kept - 1]?.[0];
    for (const [id, entry] of entries) {
      if (oldest !== undefined && !entry.offline && entry.checkpoint === undefined && id < oldest) entries.delete(id);
    }
  }

  rememberPut(
    threadId: string,
    ns: string,
    checkpointId: string,
    checkpoint: KeptCheckpoint,
    parentId: string | undefined,
    offline: boolean,
  ): void {
    const entry = this.#entry(threadId, ns, checkpointId, offline);
    entry.checkpoint = checkpoint;
    entry.parentId = parentId;
    if (!offline) this.#trim(threadId, ns);
  }

  /** A tuple read from Redis, before the caller gets it. */
  rememberTuple(tuple: CheckpointTuple): void {
    const threadId = tuple.config.configurable?.thread_id;
    if (typeof threadId !== "string") return;
    const ns = String(tuple.config.configurable?.checkpoint_ns ?? "");
    const entry = this.#entry(threadId, ns, tuple.checkpoint.id, false);
    if (entry.offline) return;
    entry.checkpoint = this.keep(threadId, ns, tuple.checkpoint, tuple.metadata);
    entry.parentId = tuple.parentConfig?.configurable?.checkpoint_id as string | undefined;
    entry.writes.clear();
    for (const [taskId, channel, value] of tuple.pendingWrites ?? []) {
      const idx = WRITES_IDX_MAP[channel] ?? entry.writes.size;
      entry.writes.set(`${taskId}\0${idx}`, { taskId, taskPath: "", idx, channel, value: this.#freeze(value) });
    }
    this.#trim(threadId, ns);
  }

  /** Pending writes (frozen by freezeWrites), with the saver's rules: special writes overwrite, normal ones are
   * insert-if-absent. */
  rememberWrites(
    threadId: string,
    ns: string,
    checkpointId: string,
    writes: [string, Frozen][],
    taskId: string,
    taskPath: string,
    offline: boolean,
  ): void {
    // LangGraph sends a step's writes beside the put of their checkpoint: they may land first, and the entry then
    // waits for its checkpoint (a DeltaChannel history read offline needs every write of every ancestor).
    const entry = this.#entry(threadId, ns, checkpointId, offline);
    writes.forEach(([channel, value], position) => {
      const idx = WRITES_IDX_MAP[channel] ?? position;
      const key = `${taskId}\0${idx}`;
      if (idx >= 0 && entry.writes.has(key)) return;
      entry.writes.set(key, { taskId, taskPath, idx, channel, value });
    });
  }

  /** A DeltaChannel history was read from Redis for a checkpoint this process knows (read or wrote just before). */
  rememberHistoryRead(threadId: string, ns: string, checkpointId: string): void {
    const entry = this.#threads.get(threadId)?.get(ns)?.get(checkpointId);
    if (entry === undefined || entry.checkpoint === undefined) return;
    entry.historyRead = true;
    this.#trim(threadId, ns);
  }

  /**
   * The journal was replayed: offline checkpoints are now in Redis and count as known from there. Threads whose
   * offline branch went to a fork are forgotten (Redis holds another head for them now).
   */
  settle(forked: ReadonlySet<string>): void {
    for (const [threadId, thread] of this.#threads) {
      if (forked.has(threadId)) {
        this.#threads.delete(threadId);
        continue;
      }
      for (const [ns, entries] of thread) {
        for (const entry of entries.values()) entry.offline = false;
        this.#trim(threadId, ns);
      }
    }
  }

  /** A tuple of fresh objects, decoded from what the entry keeps. */
  async #tuple(threadId: string, ns: string, id: string, entry: Entry): Promise<CheckpointTuple | undefined> {
    const kept = entry.checkpoint;
    if (kept === undefined) return undefined;
    const [checkpoint, metadata, pendingWrites] = await Promise.all([
      this.#checkpoint(kept),
      kept.metadata && this.#thaw<CheckpointMetadata>(kept.metadata),
      this.#writes(entry),
    ]);
    const config: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: id } };
    return {
      config,
      checkpoint,
      metadata,
      parentConfig:
        entry.parentId === undefined
          ? undefined
          : { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: entry.parentId } },
      pendingWrites,
    };
  }

  async #checkpoint(kept: KeptCheckpoint): Promise<Checkpoint> {
    const channels = [...kept.values];
    const [checkpoint, ...values] = await Promise.all([
      this.#thaw<Checkpoint>(kept.skeleton),
      ...channels.map(([, { value }]) => this.#thaw(value)),
    ]);
    const channelValues: Record<string, unknown> = {};
    channels.forEach(([channel], i) => {
      channelValues[channel] = values[i];
    });
    return { ...(checkpoint as Checkpoint), channel_values: channelValues };
  }

  /** A checkpoint's pending writes (to `channel` only, when given) in writesSortKey order, as a read returns them. */
  #writes(entry: Entry, channel?: string): Promise<CheckpointPendingWrite[]> {
    const writes = [...entry.writes.values()]
      .filter((write) => channel === undefined || write.channel === channel)
      .sort((a, b) =>
        compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx), writesSortKey(b.taskPath, b.taskId, b.idx)),
      );
    return Promise.all(
      writes.map(
        async (write): Promise<CheckpointPendingWrite> => [write.taskId, write.channel, await this.#thaw(write.value)],
      ),
    );
  }

  /** The id and entry of checkpoint `checkpointId` (or the newest) of a namespace, if this process knows it. */
  #find(threadId: string, ns: string, checkpointId: string | undefined): [string, Entry] | undefined {
    const entries = this.#threads.get(threadId)?.get(ns);
    if (entries === undefined) return undefined;
    if (checkpointId !== undefined) {
      const entry = entries.get(checkpointId);
      return entry?.checkpoint === undefined ? undefined : [checkpointId, entry];
    }
    let newest: [string, Entry] | undefined;
    for (const [id, entry] of entries) {
      if (entry.checkpoint !== undefined && (newest === undefined || id > newest[0])) newest = [id, entry];
    }
    return newest;
  }

  /** The checkpoint `checkpointId` (or the newest) of a namespace; undefined when this process does not know it. */
  async get(threadId: string, ns: string, checkpointId: string | undefined): Promise<CheckpointTuple | undefined> {
    const found = this.#find(threadId, ns, checkpointId);
    return found && this.#tuple(threadId, ns, found[0], found[1]);
  }

  /**
   * getDeltaChannelHistory from what this process holds: the writes of the known ancestors of `checkpointId` (or of
   * the newest), back to each channel's stored value (its seed) or to `held`, the history the saver holds for one
   * checkpoint (read from Redis); undefined when the walk meets a checkpoint this process does not know, or when the
   * writes it found are fewer than the checkpoint's metadata counts.
   */
  async deltaHistory(
    threadId: string,
    ns: string,
    checkpointId: string | undefined,
    channels: readonly string[],
    held: { checkpointId: string; history: Record<string, DeltaChannelHistory> } | undefined,
  ): Promise<Record<string, DeltaChannelHistory> | undefined> {
    const entries = this.#threads.get(threadId)?.get(ns);
    const target = this.#find(threadId, ns, checkpointId);
    if (entries === undefined || target === undefined) return undefined;
    const [targetId, targetEntry] = target;
    // The held history is the target's own (read from Redis when this process last loaded it: getState, a turn).
    if (held !== undefined && held.checkpointId === targetId) return held.history;
    const metadataOf = async (entry: Entry) =>
      entry.checkpoint?.metadata && (await this.#thaw<CheckpointMetadata>(entry.checkpoint.metadata));
    const targetMetadata = await metadataOf(targetEntry);
    // Per open channel, each ancestor's writes to it, newest ancestor first.
    const open = new Map(channels.map((channel) => [channel, [] as CheckpointPendingWrite[][]]));
    const result: Record<string, DeltaChannelHistory> = {};
    // A channel's history is complete when it holds as many updates since its stored value as the target's
    // metadata counts (counters_since_delta_snapshot). An update is one step's writes, which LangGraph stores on that
    // step's checkpoint, or all on the run's first one with durability "exit": so an ancestor with writes holds at
    // least one update and at most one per write. A write this process missed fails the count.
    let complete = true;
    const close = (channel: string, held?: { history: DeltaChannelHistory; updates: number | undefined }) => {
      const perAncestor = open.get(channel) ?? [];
      const heldUpdates = held === undefined ? 0 : (held.updates ?? Number.NaN);
      const fewest = perAncestor.filter((writes) => writes.length > 0).length + heldUpdates;
      const most = perAncestor.reduce((sum, writes) => sum + writes.length, 0) + heldUpdates;
      const counted = updatesSinceSnapshot(targetMetadata, channel) ?? Number.NaN;
      if (!(counted >= fewest && counted <= most)) complete = false;
      const newer = perAncestor.toReversed().flat();
      result[channel] = { ...held?.history, writes: [...(held?.history.writes ?? []), ...newer] };
      open.delete(channel);
    };
    let id = targetEntry.parentId;
    while (open.size > 0 && complete) {
      if (id === undefined) {
        // The root: no stored value on the way, the writes from the start.
        for (const channel of [...open.keys()]) close(channel);
        break;
      }
      const entry = entries.get(id);
      const kept = entry?.checkpoint;
      if (entry === undefined || kept === undefined) return undefined;
      for (const [channel, perAncestor] of [...open]) {
        perAncestor.push(await this.#writes(entry, channel));
        const heldHere = held?.checkpointId === id ? held.history[channel] : undefined;
        const stored = kept.values.get(channel);
        if (stored !== undefined) {
          // The stored value: the seed, from which this ancestor's writes on count.
          close(channel, { history: { writes: [], seed: await this.#thaw(stored.value) }, updates: 0 });
        } else if (heldHere !== undefined) {
          close(channel, { history: heldHere, updates: updatesSinceSnapshot(await metadataOf(entry), channel) });
        }
      }
      id = entry.parentId;
    }
    return complete ? result : undefined;
  }

  /** Known checkpoints of a thread, newest first, with list()'s options. */
  async list(
    threadId: string,
    ns: string | undefined,
    checkpointId: string | undefined,
    options?: CheckpointListOptions,
  ): Promise<CheckpointTuple[]> {
    const before = options?.before?.configurable?.checkpoint_id;
    const found: [string, string, Entry][] = [];
    for (const [entryNs, entries] of this.#threads.get(threadId) ?? []) {
      if (ns !== undefined && entryNs !== ns) continue;
      for (const [id, entry] of entries) {
        if (entry.checkpoint === undefined || (checkpointId !== undefined && id !== checkpointId)) continue;
        if (before === undefined || id < before) found.push([entryNs, id, entry]);
      }
    }
    found.sort(([, a], [, b]) => (a < b ? 1 : a > b ? -1 : 0));
    const limit = options?.limit === undefined ? found.length : Math.max(0, options.limit);
    const filter = options?.filter;
    const tuples: CheckpointTuple[] = [];
    for (const [entryNs, id, entry] of found) {
      if (tuples.length >= limit) break;
      const tuple = (await this.#tuple(threadId, entryNs, id, entry)) as CheckpointTuple;
      const metadata = (tuple.metadata ?? {}) as Record<string, unknown>;
      if (filter && !Object.entries(filter).every(([key, value]) => isDeepStrictEqual(metadata[key], value))) continue;
      tuples.push(tuple);
    }
    return tuples;
  }
}
