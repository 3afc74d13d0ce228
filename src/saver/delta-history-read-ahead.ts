/**
 * DeltaChannel histories read ahead: getTuple asks the read script for the first page of the history walk of the
 * checkpoint it returns (the channels its refs leave to history), because LangGraph loads exactly that history
 * right after getTuple (channelsFromCheckpoint, on every invoke and getState). The load then takes the page from
 * here instead of sending a walk of its own: a process's first load of a thread costs one round trip, not two,
 * and so does a load after new steps by a process that holds the thread's history (the read's walk stops there).
 *
 * Taken once, and bounded: a page nobody loads (a getTuple outside LangGraph, a load of other channels) waits until
 * newer pages push it out, oldest first, within MAX_READ_AHEAD_ENTRIES and MAX_READ_AHEAD_BYTES. Whatever is not
 * here is walked as before. A page holds what the script read with the checkpoint, in one atomic call, so it is that
 * checkpoint's history as of the read, under the history epoch read with it (the held-history cache takes it as it
 * takes a page it walked itself).
 */
import type { HistoryPageReply } from "../lua/catalogue.js";

/** Most pages waiting: the reads of that many runs in flight between their getTuple and their history load. */
const MAX_READ_AHEAD_ENTRIES = 1024;
/** Most bytes of pages waiting: of the reply buffers they keep alive (pageBytes). */
const MAX_READ_AHEAD_BYTES = 32 * 1024 * 1024;

/** A page read with a checkpoint, and what its use needs to know. */
export interface ReadAheadHistory {
  /** The channels walked: those the checkpoint leaves to history. */
  readonly channels: readonly string[];
  readonly page: HistoryPageReply;
  /** The thread's history epoch read with the page. */
  readonly epoch: string;
  /** The escaped id of the held checkpoint the walk was to stop at ("" for none); page.stopped: it did. */
  readonly stopAt: string;
  /** The held-history cache's generation before the read (DeltaHistoryCache.generation; 0 without the cache). */
  readonly generation: number;
}

interface Waiting extends ReadAheadHistory {
  readonly threadId: string;
  readonly bytes: number;
}

export class DeltaHistoryReadAhead {
  /** [thread, checkpoint field (escaped `ns\0id`)] -> the page; oldest first. */
  readonly #waiting = new Map<string, Waiting>();
  #bytes = 0;

  /** Keeps the page read with checkpoint `field` (escaped `ns\0id`) of the thread until a load takes it. */
  put(threadId: string, field: string, history: ReadAheadHistory): void {
    const bytes = pageBytes(history.page);
    if (bytes > MAX_READ_AHEAD_BYTES) return;
    const key = waitingKey(threadId, field);
    this.#drop(key);
    this.#waiting.set(key, { ...history, threadId, bytes });
    this.#bytes += bytes;
    for (const [oldest] of this.#waiting) {
      if (this.#waiting.size <= MAX_READ_AHEAD_ENTRIES && this.#bytes <= MAX_READ_AHEAD_BYTES) break;
      this.#drop(oldest);
    }
  }

  /** The page read with checkpoint `field` of the thread, removed; undefined when none waits. */
  take(threadId: string, field: string): ReadAheadHistory | undefined {
    if (this.#waiting.size === 0) return undefined;
    const key = waitingKey(threadId, field);
    const waiting = this.#waiting.get(key);
    this.#drop(key);
    return waiting;
  }

  /** Drops the thread's pages: this process removed or replaced the thread, so they may no longer hold. */
  forgetThread(threadId: string): void {
    for (const [key, waiting] of this.#waiting) if (waiting.threadId === threadId) this.#drop(key);
  }

  #drop(key: string): void {
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return;
    this.#waiting.delete(key);
    this.#bytes -= waiting.bytes;
  }
}

function waitingKey(threadId: string, field: string): string {
  return JSON.stringify([threadId, field]);
}

/**
 * The memory a waiting page keeps alive: the reply's buffers are views of the socket's chunks, so each chunk any
 * part lies in counts whole, once.
 */
function pageBytes(page: HistoryPageReply): number {
  const chunks = new Set<ArrayBufferLike>([page.entries.buffer]);
  for (const piece of page.pieces) chunks.add(piece.buffer);
  for (const seed of page.seeds) chunks.add(seed.blob.buffer);
  for (const base of page.bases.values()) chunks.add(base.buffer);
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.byteLength;
  return bytes;
}
