/**
 * What this process knows of each thread's stored layout, learned from the put scripts' replies:
 * - whether a put has converted what earlier releases stored for the thread (include legacyLayout). The conversion
 *   check costs a command, so it runs at the first put of a thread in each process instead of at every put;
 * - whether its checkpoint index was a LIST at the last put (include checkpointIndex): the next put then sends the
 *   "l" flag and its script reads the index without asking its TYPE first, a command less per put.
 * Bounded: when full, the map starts over (a thread is then checked once more, which is harmless).
 */
export class LegacyLayoutChecks {
  /** Threads converted, each with whether its index was a LIST at its last put. */
  readonly #done = new Map<string, boolean>();

  constructor(private readonly maxThreads = 10_000) {}

  /** The put scripts' upgrade argument: "1" until a put of the thread succeeded in this process. */
  flag(threadId: string): "1" | "" {
    return this.#done.has(threadId) ? "" : "1";
  }

  /** The put scripts' "l" flag: the thread's index was a LIST at its last put in this process. */
  listFlag(threadId: string): "l" | "" {
    return this.#done.get(threadId) === true ? "l" : "";
  }

  /** Records a successful put of the thread (with or without the flags) and what it found the index to be. */
  done(threadId: string, listIndex: boolean): void {
    const known = this.#done.get(threadId);
    if (known === listIndex) return;
    if (known === undefined && this.#done.size >= this.maxThreads) this.#done.clear();
    this.#done.set(threadId, listIndex);
  }
}
