/**
 * saver.threads: the thread registry of a RedisSaver (docs/runs.md). A thin surface over one module per
 * operation; the registry itself is kept by the saver's writes and by the run leases of withRunLease.
 */
import { describeValue, InvalidInputError } from "../../errors.js";
import { requireThreadId } from "../config.js";
import type { SaverContext } from "../context.js";
import { requireWellFormedInput } from "../well-formed.js";
import type { ThreadInfo } from "./record.js";
import { registerThread } from "./register.js";
import {
  countThreads,
  getThread,
  searchThreads,
  type ThreadFilter,
  type ThreadSearchPage,
  type ThreadSearchQuery,
} from "./search.js";

export class ThreadRegistry {
  readonly #context: SaverContext;

  /** @internal Use `saver.threads`. */
  constructor(context: SaverContext) {
    this.#context = context;
  }

  /** The thread as the registry knows it, or undefined (never written, deleted, or expired). One round trip. */
  async get(threadId: string): Promise<ThreadInfo | undefined> {
    return getThread(this.#context, checkedThreadId(threadId, "threads.get"));
  }

  /**
   * Threads matching every condition given, newest created first, `limit` at a time (default 10); pass the
   * returned `cursor` back for the next page. Metadata conditions need fields declared in `threads.indexedMetadata`.
   */
  async search(query?: ThreadSearchQuery): Promise<ThreadSearchPage> {
    return searchThreads(this.#context, query);
  }

  /** How many threads match (see docs/runs.md for what it costs). */
  async count(filter?: ThreadFilter): Promise<number> {
    return countThreads(this.#context, filter);
  }

  /**
   * Creates the thread's registry entry if there is none, and sets metadata fields (null removes one). Indexed
   * fields must hold strings, finite numbers or booleans. Returns the thread as stored.
   */
  async update(threadId: string, change: { metadata: Record<string, unknown> }): Promise<ThreadInfo> {
    const operation = "threads.update";
    const id = checkedThreadId(threadId, operation);
    if (change === null || typeof change !== "object") {
      throw new InvalidInputError(`${operation}: expected { metadata }, received ${describeValue(change)}`);
    }
    return registerThread(this.#context, id, { metadata: change.metadata, touch: false }, operation);
  }
}

function checkedThreadId(threadId: string, operation: string): string {
  const id = requireThreadId(threadId, operation);
  requireWellFormedInput({ threadId: id }, operation);
  return id;
}
