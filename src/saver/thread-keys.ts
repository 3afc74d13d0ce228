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

export class ThreadKeysCache {
  readonly #prefix: string;
  readonly #max: number;
  readonly #entries = new Map<string, ThreadKeys>();

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

  /** Threads whose keys are kept (tests). */
  get size(): number {
    return this.#entries.size;
  }
}
