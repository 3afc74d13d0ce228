/**
 * The key names of a thread, built once per thread id and reused by the next calls on that thread: every put,
 * putWrites and read names the same nine keys, and building them (escaping, hash tag, bucket hash) each time cost
 * more than the rest of the call's own bookkeeping. keys.ts stays the one place that builds names; this only keeps
 * what it built. Bounded: past `max` threads the oldest entry is dropped (it is rebuilt if its thread comes back).
 */
import { type SaverThreadKeys, saverThreadKeys, threadBucket, threadRegistryKeys } from "../keys.js";

/**
 * How many threads' keys a saver keeps (about 1.2 KB each with a 50-character thread id: 10 MB at most). Enough for a
 * process writing 5,000 threads at once: with fewer than the threads in rotation, every call missed and built them.
 */
export const THREAD_KEYS_KEPT = 8192;

export interface ThreadKeys {
  /** The thread's own keys (one hash tag). */
  readonly thread: SaverThreadKeys;
  /** The cross-thread index bucket the thread belongs to (thread-index.ts), in the registry's slot. */
  readonly threadIndex: string;
}

/**
 * How often a put through saverPutCompact refreshes its thread's entry in the cross-thread index, per thread and
 * process (thread-index.ts): the entry's score is the thread's last write to within this much.
 */
export const THREAD_TOUCH_EVERY_MS = 1000;

export class ThreadKeysCache {
  readonly #prefix: string;
  readonly #max: number;
  readonly #entries = new Map<string, ThreadKeys>();
  /** Thread id -> when this process last had its cross-thread index entry refreshed (Date.now()). */
  readonly #touchedAtMs = new Map<string, number>();

  constructor(prefix: string, max = THREAD_KEYS_KEPT) {
    this.#prefix = prefix;
    this.#max = max;
  }

  get(threadId: string): ThreadKeys {
    const found = this.#entries.get(threadId);
    if (found !== undefined) return found;
    const thread = saverThreadKeys(this.#prefix, threadId);
    Object.freeze(thread.all);
    const built: ThreadKeys = Object.freeze({
      thread: Object.freeze(thread),
      threadIndex: threadRegistryKeys(this.#prefix, threadBucket(threadId)).updated,
    });
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(threadId, built);
    return built;
  }

  /**
   * Whether a put of the thread at `nowMs` should refresh its cross-thread index entry: when this process has not
   * done so for THREAD_TOUCH_EVERY_MS. Answering yes counts as the refresh. Bounded like the keys.
   */
  touchDue(threadId: string, nowMs: number): boolean {
    const last = this.#touchedAtMs.get(threadId);
    if (last !== undefined && nowMs - last < THREAD_TOUCH_EVERY_MS && nowMs >= last) return false;
    if (last !== undefined) this.#touchedAtMs.delete(threadId);
    else if (this.#touchedAtMs.size >= this.#max) {
      const oldest = this.#touchedAtMs.keys().next();
      if (!oldest.done) this.#touchedAtMs.delete(oldest.value);
    }
    this.#touchedAtMs.set(threadId, nowMs);
    return true;
  }

  /** Threads whose keys are kept (tests). */
  get size(): number {
    return this.#entries.size;
  }
}
