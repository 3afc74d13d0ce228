/**
 * What this process last wrote or read for each thread, in memory, so getTuple, list and getDeltaChannelHistory can
 * answer while Redis is unreachable: per thread and namespace the newest checkpoint known from Redis, plus every
 * checkpoint written while offline (until the journal is replayed), each with its pending writes. Once a
 * checkpoint's DeltaChannel history was read from Redis (which the saver then holds), the checkpoints known from
 * Redis since stay too, so the history of a later checkpoint is that history plus their writes (LangGraph reads it
 * at the start of each invoke: about one turn's checkpoints). Threads are evicted least recently used first beyond
 * `limit`; a thread with offline checkpoints is never evicted (its journal records hold them anyway).
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
import { updatesSinceSnapshot } from "../../saver/delta-counters.js";

interface StoredWrite {
  readonly taskId: string;
  readonly taskPath: string;
  readonly idx: number;
  readonly channel: string;
  readonly value: unknown;
}

interface Entry {
  checkpoint: Checkpoint | undefined;
  metadata: CheckpointMetadata | undefined;
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

  constructor(limit: number) {
    this.#limit = limit;
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
      entry = { checkpoint: undefined, metadata: undefined, parentId: undefined, offline, writes: new Map() };
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
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    parentId: string | undefined,
    offline: boolean,
  ): void {
    const entry = this.#entry(threadId, ns, checkpoint.id, offline);
    entry.checkpoint = checkpoint;
    entry.metadata = metadata;
    entry.parentId = parentId;
    if (!offline) this.#trim(threadId, ns);
  }

  /** A tuple read from Redis. */
  rememberTuple(tuple: CheckpointTuple): void {
    const threadId = tuple.config.configurable?.thread_id;
    if (typeof threadId !== "string") return;
    const ns = String(tuple.config.configurable?.checkpoint_ns ?? "");
    const entry = this.#entry(threadId, ns, tuple.checkpoint.id, false);
    if (entry.offline) return;
    entry.checkpoint = tuple.checkpoint;
    entry.metadata = tuple.metadata;
    entry.parentId = tuple.parentConfig?.configurable?.checkpoint_id as string | undefined;
    entry.writes.clear();
    for (const [taskId, channel, value] of tuple.pendingWrites ?? []) {
      const idx = WRITES_IDX_MAP[channel] ?? entry.writes.size;
      entry.writes.set(`${taskId}\0${idx}`, { taskId, taskPath: "", idx, channel, value });
    }
    this.#trim(threadId, ns);
  }

  /** Pending writes, with the saver's rules: special writes overwrite, normal ones are insert-if-absent. */
  rememberWrites(
    threadId: string,
    ns: string,
    checkpointId: string,
    writes: PendingWrite[],
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

  #tuple(threadId: string, ns: string, id: string, entry: Entry): CheckpointTuple | undefined {
    if (entry.checkpoint === undefined) return undefined;
    const pendingWrites = sortedWrites(entry);
    const config: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: id } };
    return {
      config,
      checkpoint: entry.checkpoint,
      metadata: entry.metadata,
      parentConfig:
        entry.parentId === undefined
          ? undefined
          : { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: entry.parentId } },
      pendingWrites,
    };
  }

  /** The checkpoint `checkpointId` (or the newest) of a namespace; undefined when this process does not know it. */
  get(threadId: string, ns: string, checkpointId: string | undefined): CheckpointTuple | undefined {
    const entries = this.#threads.get(threadId)?.get(ns);
    if (entries === undefined) return undefined;
    if (checkpointId !== undefined) {
      const entry = entries.get(checkpointId);
      return entry === undefined ? undefined : this.#tuple(threadId, ns, checkpointId, entry);
    }
    const ids = [...entries.keys()].filter((id) => entries.get(id)?.checkpoint !== undefined).sort();
    const newest = ids.at(-1);
    return newest === undefined ? undefined : this.#tuple(threadId, ns, newest, entries.get(newest) as Entry);
  }

  /**
   * getDeltaChannelHistory from what this process holds: the writes of the known ancestors of `checkpointId` (or of
   * the newest), back to each channel's stored value (its seed) or to `held`, the history the saver holds for one
   * checkpoint (read from Redis); undefined when the walk meets a checkpoint this process does not know, or when the
   * writes it found are fewer than the checkpoint's metadata counts.
   */
  deltaHistory(
    threadId: string,
    ns: string,
    checkpointId: string | undefined,
    channels: readonly string[],
    held: { checkpointId: string; history: Record<string, DeltaChannelHistory> } | undefined,
  ): Record<string, DeltaChannelHistory> | undefined {
    const entries = this.#threads.get(threadId)?.get(ns);
    const target = entries && this.get(threadId, ns, checkpointId);
    if (entries === undefined || target === undefined) return undefined;
    // The held history is the target's own (read from Redis when this process last loaded it: getState, a turn).
    if (held !== undefined && held.checkpointId === target.checkpoint.id) return held.history;
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
      const counted = updatesSinceSnapshot(target.metadata, channel) ?? Number.NaN;
      if (!(counted >= fewest && counted <= most)) complete = false;
      const newer = perAncestor.toReversed().flat();
      result[channel] = { ...held?.history, writes: [...(held?.history.writes ?? []), ...newer] };
      open.delete(channel);
    };
    let id = target.parentConfig?.configurable?.checkpoint_id as string | undefined;
    while (open.size > 0 && complete) {
      if (id === undefined) {
        // The root: no stored value on the way, the writes from the start.
        for (const channel of [...open.keys()]) close(channel);
        break;
      }
      const entry = entries.get(id);
      if (entry?.checkpoint === undefined) return undefined;
      const writes = sortedWrites(entry);
      const values = entry.checkpoint.channel_values as Record<string, unknown>;
      for (const [channel, perAncestor] of [...open]) {
        perAncestor.push(writes.filter(([, written]) => written === channel));
        const heldHere = held?.checkpointId === id ? held.history[channel] : undefined;
        if (Object.hasOwn(values, channel)) {
          // The stored value: the seed, from which this ancestor's writes on count.
          close(channel, { history: { writes: [], seed: values[channel] }, updates: 0 });
        } else if (heldHere !== undefined) {
          close(channel, { history: heldHere, updates: updatesSinceSnapshot(entry.metadata, channel) });
        }
      }
      id = entry.parentId;
    }
    return complete ? result : undefined;
  }

  /** Known checkpoints of a thread, newest first, with list()'s options. */
  list(threadId: string, ns: string | undefined, checkpointId: string | undefined, options?: CheckpointListOptions) {
    const thread = this.#threads.get(threadId);
    const tuples: CheckpointTuple[] = [];
    for (const [entryNs, entries] of thread ?? []) {
      if (ns !== undefined && entryNs !== ns) continue;
      for (const [id, entry] of entries) {
        if (checkpointId !== undefined && id !== checkpointId) continue;
        if (
          options?.before?.configurable?.checkpoint_id !== undefined &&
          !(id < options.before.configurable.checkpoint_id)
        )
          continue;
        const tuple = this.#tuple(threadId, entryNs, id, entry);
        if (tuple === undefined) continue;
        const filter = options?.filter;
        const metadata = (tuple.metadata ?? {}) as Record<string, unknown>;
        if (filter && !Object.entries(filter).every(([key, value]) => isDeepStrictEqual(metadata[key], value)))
          continue;
        tuples.push(tuple);
      }
    }
    tuples.sort((a, b) => (a.checkpoint.id < b.checkpoint.id ? 1 : a.checkpoint.id > b.checkpoint.id ? -1 : 0));
    const limit = options?.limit;
    return limit === undefined ? tuples : tuples.slice(0, Math.max(0, limit));
  }
}

/** A checkpoint's pending writes in writesSortKey order, as a read returns them. */
function sortedWrites(entry: Entry): CheckpointPendingWrite[] {
  return [...entry.writes.values()]
    .sort((a, b) =>
      compareWritesSortKeys(writesSortKey(a.taskPath, a.taskId, a.idx), writesSortKey(b.taskPath, b.taskId, b.idx)),
    )
    .map((write) => [write.taskId, write.channel, write.value]);
}
