/**
 * The DeltaChannel histories this process read last per thread and namespace, as the script returned them (raw
 * pages, not decoded values: LangGraph hands decoded messages to the graph, which may change them): the newest
 * checkpoint's (the tip) and the last one read for an older checkpoint. A later load of that thread passes the tip as
 * the walk's stopAt: the script walks only the ancestors written since, and the held pages follow (history(C) = the
 * writes of C's ancestors down to A, A's included, then history(A)). A process that keeps serving a thread then
 * walks a few ancestors per load instead of every one since the snapshot. A load of an ancestor on a held history is
 * cut from it (heldPagesBelow), and the older slot keeps getStateHistory's walks below a snapshot from taking the tip.
 *
 * Sound because an ancestor's writes and stored values do not change once it has a child: LangGraph writes a
 * checkpoint's pending writes before the put of the next one. A walk meets the held checkpoint only while its record
 * exists (a load of the held checkpoint itself checks it), and the script ignores what was held under another history
 * epoch: deleteForRuns and copyThread, which can give checkpoints that stay other ancestors, set a new one
 * (src/lua/include/historyEpoch.lua), for every process. This process also forgets a thread it removes or replaces
 * (deleteThread, deleteForRuns, copyThread into it, prune).
 */
import { z } from "zod";
import { unwrapRecord } from "./record.js";

/** Default budget of the held histories of one saver: about 410 threads like the bench's 95-turn chat (82 KB each). */
export const DEFAULT_DELTA_HISTORY_CACHE_BYTES = 32 * 1024 * 1024;

/** The saver's `deltaHistoryCache` option: `{ maxBytes }`, or `false` for none. */
export const deltaHistoryCacheOptionsSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** Most bytes of histories held (whole histories are dropped, least recently used first). */
    maxBytes: z
      .number()
      .int()
      .nonnegative()
      .max(8 * 1024 * 1024 * 1024)
      .default(DEFAULT_DELTA_HISTORY_CACHE_BYTES),
  }),
]);

/** One page of the ancestor walk, as the script returned it (src/lua/saverDeltaHistory.lua). */
export interface HistoryPage {
  /** The channels walked when the page began. */
  walked: readonly string[];
  /**
   * A 4-byte big-endian number per ancestor with pieces, newest first: 4 * overflow writes, + 1 with a bundle, + 2
   * when that bundle comes inside the ancestor's stored record (record.ts, unwrapRecord).
   */
  entries: Buffer;
  /** Those ancestors' bundles (whole, or the stored record that carries one) and overflow writes, in that order. */
  pieces: readonly Buffer[];
  /**
   * Channel, blob field, stored blob, the entries (1-based) the channel is walked through and the ancestor that
   * holds it (1-based, in `visited`).
   */
  seeds: readonly { channel: string; field: string; blob: Buffer; entry: number; visit: number }[];
  /** Every ancestor the page visited, newest first: its escaped id and the entries up to and including its own. */
  visited: readonly { id: string; entries: number }[];
}

/** A checkpoint's history for a set of channels: its pages oldest-last, and the bases its seeds need. */
export interface HeldHistory {
  /** The escaped checkpoint id. */
  readonly checkpointId: string;
  /** The thread's history epoch it was read under (src/lua/include/historyEpoch.lua). */
  readonly epoch: string;
  readonly pages: readonly HistoryPage[];
  readonly bases: ReadonlyMap<string, Buffer>;
}

/** A held history with what it costs. */
interface Held extends HeldHistory {
  readonly bytes: number;
}

interface Entry {
  readonly threadId: string;
  readonly channels: string;
  /** Newest checkpoint first: the tip, then the last history read for an older checkpoint, if any. */
  readonly held: readonly Held[];
  readonly bytes: number;
}

/** Pages whose buffers this module copied (held ones, and the views heldPagesAfter makes of them): not copied again. */
const owned = new WeakSet<HistoryPage>();

/** What a history costs beyond its bytes (objects, map slots): counted so that tiny histories are bounded too. */
const ENTRY_OVERHEAD_BYTES = 256;
const PIECE_OVERHEAD_BYTES = 48;
const VISITED_OVERHEAD_BYTES = 40;

/**
 * Most checkpoints whose read epoch is remembered (observe), about 200 bytes each: enough for the reads of a few
 * thousand runs in flight in one process between each one's read and its history load; one evicted first is loaded
 * with the script's check, as without it.
 */
const MAX_OBSERVED = 4096;

/** The held histories, least recently used thread and namespace first, within maxBytes. */
export class DeltaHistoryCache {
  readonly #entries = new Map<string, Entry>();
  readonly #byThread = new Map<string, Set<string>>();
  #bytes = 0;
  /** Counts forgetThread calls: a load that overlapped one does not hold what it read (it may predate the change). */
  #generation = 0;
  /**
   * thread, NUL, checkpoint field (escaped `ns\0id`) -> the history epoch the read script returned with that
   * checkpoint, and the generation then: oldest first, at most MAX_OBSERVED.
   */
  readonly #observed = new Map<string, { epoch: string; generation: number }>();

  constructor(readonly maxBytes: number) {}

  /**
   * The histories held for the thread's namespace with exactly these channels, newest checkpoint first: the tip's,
   * and the last one read for an older checkpoint (getStateHistory, time travel) when there is one. Empty for none.
   */
  get(threadId: string, ns: string, channels: readonly string[]): readonly HeldHistory[] {
    const key = entryKey(threadId, ns);
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.channels !== channelsKey(channels)) return [];
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.held;
  }

  /** What a load notes before it reads, for set(). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Holds a checkpoint's history (copied, so the reply's socket buffers are not kept alive): as the tip when its
   * checkpoint is not older than the tip's (ids sort by creation, as LangGraph's do), replacing what was held;
   * otherwise beside the tip, replacing the older one held before, so that reading an old state does not cost the
   * process its hold on the thread's newest one. Nothing when a thread was forgotten since the load began
   * (`generation`: this.generation then).
   */
  set(threadId: string, ns: string, channels: readonly string[], held: HeldHistory, generation: number): void {
    if (generation !== this.#generation) return;
    const key = entryKey(threadId, ns);
    const channelSet = channelsKey(channels);
    const pages = held.pages.map((page) => (owned.has(page) ? page : copyPage(page)));
    const bases = new Map([...held.bases].map(([field, base]) => [field, Buffer.from(base)]));
    const added: Held = {
      checkpointId: held.checkpointId,
      epoch: held.epoch,
      pages,
      bases,
      bytes: heldBytes(pages, bases),
    };
    const before = this.#entries.get(key);
    const tip = before?.channels === channelSet ? before.held[0] : undefined;
    let kept: Held[] = tip !== undefined && added.checkpointId < tip.checkpointId ? [tip, added] : [added];
    // Whole histories only: the older one goes first when both do not fit.
    if (kept.length === 2 && tip !== undefined && tip.bytes + added.bytes > this.maxBytes) kept = [tip];
    if (kept.reduce((sum, one) => sum + one.bytes, 0) > this.maxBytes) kept = [];
    this.#drop(key);
    if (kept.length === 0) return;
    const bytes = kept.reduce((sum, one) => sum + one.bytes, 0);
    this.#entries.set(key, { threadId, channels: channelSet, held: kept, bytes });
    let keys = this.#byThread.get(threadId);
    if (keys === undefined) {
      keys = new Set();
      this.#byThread.set(threadId, keys);
    }
    keys.add(key);
    this.#bytes += bytes;
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#drop(oldest);
    }
  }

  /**
   * The newest checkpoint whose history is held for the thread's namespace (whatever its channels), and the epoch
   * it was read under: where a walk read ahead with getTuple stops (delta-history-read-ahead.ts).
   */
  tip(threadId: string, ns: string): { checkpointId: string; epoch: string } | undefined {
    const tip = this.#entries.get(entryKey(threadId, ns))?.held[0];
    return tip === undefined ? undefined : { checkpointId: tip.checkpointId, epoch: tip.epoch };
  }

  /**
   * Whether a history held for the thread's namespace is the checkpoint's own (escaped id) or walked through it: a
   * load of it is then cut from what is held (heldPagesBelow), so a read of it brings no walk of its own.
   */
  covers(threadId: string, ns: string, checkpointId: string): boolean {
    const entry = this.#entries.get(entryKey(threadId, ns));
    return (
      entry?.held.some(
        (held) =>
          held.checkpointId === checkpointId ||
          held.pages.some((page) => page.visited.some((ancestor) => ancestor.id === checkpointId)),
      ) ?? false
    );
  }

  /** Whether this process holds a history of any namespace of the thread (then reads ask for its epoch). */
  holdsThread(threadId: string): boolean {
    return this.#byThread.has(threadId);
  }

  /**
   * Notes the history epoch a read (getTuple, a page of list()) returned with a checkpoint, read with it in one
   * script. LangGraph loads the checkpoint's DeltaChannel history right after: when what is held was read under the
   * same epoch, the checkpoint existed with the ancestors the held history has, so that load needs no check of its
   * own on the server (takeObserved).
   */
  observe(threadId: string, field: string, epoch: string): void {
    const key = `${threadId}\0${field}`;
    this.#observed.delete(key);
    this.#observed.set(key, { epoch, generation: this.#generation });
    for (const [oldest] of this.#observed) {
      if (this.#observed.size <= MAX_OBSERVED) break;
      this.#observed.delete(oldest);
    }
  }

  /**
   * The epoch observe() noted for this checkpoint (used once: a later load checks again), unless this process
   * forgot a thread since (it removed or replaced history itself).
   */
  takeObserved(threadId: string, field: string): string | undefined {
    const key = `${threadId}\0${field}`;
    const observed = this.#observed.get(key);
    if (observed === undefined) return undefined;
    this.#observed.delete(key);
    return observed.generation === this.#generation ? observed.epoch : undefined;
  }

  /** Forgets every namespace of the thread (its history was removed or replaced). */
  forgetThread(threadId: string): void {
    this.#generation++;
    for (const key of this.#byThread.get(threadId) ?? []) this.#drop(key);
  }

  /** Bytes held (for tests and the bench). */
  get bytes(): number {
    return this.#bytes;
  }

  #drop(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    const keys = this.#byThread.get(entry.threadId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byThread.delete(entry.threadId);
  }
}

/** What a held history costs, counted as the budget counts it. */
function heldBytes(pages: readonly HistoryPage[], bases: ReadonlyMap<string, Buffer>): number {
  let bytes = ENTRY_OVERHEAD_BYTES;
  for (const page of pages) {
    bytes += page.entries.length;
    for (const { id } of page.visited) bytes += id.length + VISITED_OVERHEAD_BYTES;
    for (const piece of page.pieces) bytes += piece.length + PIECE_OVERHEAD_BYTES;
    for (const seed of page.seeds) bytes += seed.blob.length + seed.field.length + PIECE_OVERHEAD_BYTES;
  }
  for (const [field, base] of bases) bytes += field.length + base.length + PIECE_OVERHEAD_BYTES;
  return bytes;
}

/**
 * The pages that follow a walk that stopped at the held checkpoint: the held pages, each walking only the channels
 * still open after the new pages (a channel whose seed came on a new page ends there).
 */
export function heldPagesAfter(held: HeldHistory, open: ReadonlySet<string>): HistoryPage[] {
  const pages: HistoryPage[] = [];
  for (const page of held.pages) {
    const walked = page.walked.filter((channel) => open.has(channel));
    // A page that walks none of them adds nothing.
    if (walked.length === 0) continue;
    const view = { ...page, walked, seeds: page.seeds.filter((seed) => open.has(seed.channel)) };
    owned.add(view);
    pages.push(view);
  }
  return pages;
}

/**
 * The history of `target`, an ancestor the held history visited, cut from it: the pages after `target`'s place,
 * which is what a walk from `target` would read (an ancestor's writes and stored values do not change once it has a
 * child). Undefined when `target` is not on the held chain, or when a channel has its seed at `target` or at an
 * ancestor between it and the held checkpoint (that channel's history goes further down than what is held). The
 * caller still asks the script whether what is held counts (the history epoch, `target`'s record).
 */
export function heldPagesBelow(held: HeldHistory, target: string): HistoryPage[] | undefined {
  for (let p = 0; p < held.pages.length; p++) {
    const page = held.pages[p] as HistoryPage;
    const at = page.visited.findIndex((ancestor) => ancestor.id === target);
    // A seed newer than the target (on an earlier page, or at or before its place on this one) ends its channel.
    const seededAbove = page.seeds.some((seed) => at < 0 || seed.visit <= at + 1);
    if (seededAbove) return undefined;
    if (at < 0) continue;
    const cut = (page.visited[at] as { entries: number }).entries;
    let piecesCut = 0;
    for (let e = 0; e < cut; e++) {
      const entry = page.entries.readUInt32BE(4 * e);
      piecesCut += (entry & 1) + (entry >>> 2);
    }
    const below: HistoryPage = {
      walked: page.walked,
      entries: page.entries.subarray(4 * cut),
      pieces: page.pieces.slice(piecesCut),
      seeds: page.seeds.map((seed) => ({ ...seed, entry: seed.entry - cut, visit: seed.visit - at - 1 })),
      visited: page.visited.slice(at + 1).map((ancestor) => ({ ...ancestor, entries: ancestor.entries - cut })),
    };
    owned.add(below);
    return [below, ...held.pages.slice(p + 1)];
  }
  return undefined;
}

/**
 * A page's copy to hold: an ancestor's record that carries its bundle is held as the bundle alone (its entry loses
 * the "in its record" flag), about half the bytes of the chat's records; the page was decoded before, so its
 * wrappers are whole.
 */
function copyPage(page: HistoryPage): HistoryPage {
  const entries = Buffer.from(page.entries);
  const pieces: Buffer[] = [];
  let at = 0;
  for (let e = 0; e < entries.length / 4; e++) {
    let entry = entries.readUInt32BE(4 * e);
    if (entry & 1) {
      const stored = page.pieces[at++] as Buffer;
      if (entry & 2) {
        pieces.push(Buffer.from(unwrapRecord(stored, RECORD_SOURCE).bundle ?? Buffer.alloc(0)));
        entry &= ~2;
        entries.writeUInt32BE(entry, 4 * e);
      } else {
        pieces.push(Buffer.from(stored));
      }
    }
    for (let k = 0; k < entry >>> 2; k++) pieces.push(Buffer.from(page.pieces[at++] as Buffer));
  }
  const copy = {
    walked: [...page.walked],
    entries,
    pieces,
    seeds: page.seeds.map((seed) => ({ ...seed, blob: Buffer.from(seed.blob) })),
    visited: page.visited,
  };
  owned.add(copy);
  return copy;
}

const RECORD_SOURCE = { key: "", what: () => "a held ancestor's record" };

// JSON, not a separator: ids and channel names may hold any character.
function entryKey(threadId: string, ns: string): string {
  return JSON.stringify([threadId, ns]);
}

function channelsKey(channels: readonly string[]): string {
  return JSON.stringify([...new Set(channels)].sort());
}
