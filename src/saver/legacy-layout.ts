/**
 * Which threads this process has had saverPut or saverPutCompact convert from what earlier releases stored (include
 * legacyLayout).
 * The conversion check costs a command, so it runs at the first put of a thread in each process instead of at
 * every put. Bounded: when full, the set starts over (a thread is then checked once more, which is harmless).
 */
export class LegacyLayoutChecks {
  readonly #done = new Set<string>();

  constructor(private readonly maxThreads = 10_000) {}

  /** The put scripts' upgrade argument: "1" until a put of the thread succeeded in this process. */
  flag(threadId: string): "1" | "" {
    return this.#done.has(threadId) ? "" : "1";
  }

  /** Records a successful put that carried the flag. */
  done(threadId: string): void {
    if (this.#done.has(threadId)) return;
    if (this.#done.size >= this.maxThreads) this.#done.clear();
    this.#done.add(threadId);
  }
}
