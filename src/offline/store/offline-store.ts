/**
 * RedisStore with the `offline` option (docs/offline.md): put and delete go to the journal while Redis is
 * unreachable, and get answers from what this process last wrote or read for the item. Compare-and-set writes
 * (putIfVersion, update), search and listNamespaces need Redis and fail with RedisConnectionError meanwhile.
 *
 * Each record carries the version this process last knew of the item (its base). At replay the item is written
 * with compare-and-set on that base. If another process wrote the item meanwhile (its version moved past the base,
 * and no version since the base holds this record's value) or the record's fence is stale, the offline value is
 * still written, as a new version on top, so both values are in the item's history, and the conflict is reported.
 * A record whose value a version since its base already holds was applied before (a replay resumed after a crash):
 * it is skipped, so replaying twice changes nothing.
 */
import { isDeepStrictEqual } from "node:util";
import type { Item } from "@langchain/langgraph-checkpoint";
import { FencedWriteError, OfflineReadError, VersionConflictError } from "../../errors.js";
import { readVersioned } from "../../store/cas.js";
import type { StoreContext } from "../../store/context.js";
import { writeItem } from "../../store/crud/write-item.js";
import { readHistory } from "../../store/history.js";
import type { StoreWriteOptions } from "../../store/options.js";
import type { JournalRecord } from "../journal.js";
import type { ParsedOfflineOptions } from "../options.js";
import { type OfflineConflict, OfflineSession, type Replayer } from "../session.js";

interface Known {
  /** The value as JSON text, as the store keeps it (null: deleted); each read parses its own copy. */
  json: string | null;
  /** The item's version as Redis last said (undefined: not known). */
  version: number | undefined;
  /** Journaled writes of the item not yet replayed. */
  pending: number;
  createdAt: Date;
  updatedAt: Date;
}

type Value = Record<string, unknown> | null;

/**
 * A value as JSON text, taken when it is handed over (or read): what the store writes to Redis, and what a read
 * parses anew, so a caller changing its object afterwards changes nothing this process answers offline. undefined
 * when JSON cannot write it (a cycle, a BigInt): the write then fails as it always did, and nothing is kept.
 */
export function frozenValue(value: Value): string | null | undefined {
  if (value === null) return null;
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const itemId = (namespace: readonly string[], key: string) => JSON.stringify([namespace, key]);

export class StoreOffline {
  readonly session: OfflineSession;
  readonly #known = new Map<string, Known>();
  readonly #limit: number;
  readonly #loaded: Promise<void>;

  constructor(ctx: StoreContext, options: ParsedOfflineOptions) {
    this.#limit = options.cacheEntries;
    this.session = new OfflineSession(ctx.client, options, "store", "RedisStore");
    const replayer = new StoreReplayer(ctx);
    this.session.attach({
      apply: (record) => replayer.apply(record),
      takeConflicts: () => replayer.takeConflicts(),
      finished: () => {
        replayer.finished();
        for (const known of this.#known.values()) known.pending = 0;
      },
    });
    this.#loaded = this.session.ready().then(() => {
      for (const record of this.session.pendingRecords) {
        const { namespace, key, body } = decodeStoreRecord(record);
        this.#remember(namespace, key, frozenValue(body.value) ?? null, undefined, true);
      }
    });
    this.#loaded.catch(() => undefined);
  }

  #remember(
    namespace: readonly string[],
    key: string,
    json: string | null,
    version: number | undefined,
    offline: boolean,
  ) {
    const id = itemId(namespace, key);
    const now = new Date();
    const known = this.#known.get(id);
    this.#known.delete(id);
    const next: Known = {
      json,
      version: offline ? known?.version : version,
      pending: (known?.pending ?? 0) + (offline ? 1 : 0),
      createdAt: known?.createdAt ?? now,
      updatedAt: now,
    };
    this.#known.set(id, next);
    for (const [other, entry] of this.#known) {
      if (this.#known.size <= this.#limit) break;
      if (entry.pending === 0) this.#known.delete(other);
    }
  }

  /** An item read from Redis (get, getWithVersion), or written there: its value as frozenValue gives it. */
  rememberRead(
    namespace: readonly string[],
    key: string,
    json: string | null | undefined,
    version: number | undefined,
  ): void {
    const known = this.#known.get(itemId(namespace, key));
    if (json === undefined || (known !== undefined && known.pending > 0)) return;
    this.#remember(namespace, key, json, version ?? known?.version, false);
  }

  /** Whether reads of the item must come from local state (offline, or its journaled writes are not replayed). */
  local(namespace: readonly string[], key: string): boolean {
    return this.session.state === "offline" || (this.#known.get(itemId(namespace, key))?.pending ?? 0) > 0;
  }

  /** An unconditional put or delete (`json`: its value as frozenValue gave it when it was handed over): to Redis
   * while it answers, else to the journal. */
  async write(
    namespace: string[],
    key: string,
    value: Value,
    json: string | null | undefined,
    options: StoreWriteOptions,
    online: () => Promise<number>,
  ): Promise<number> {
    await this.#loaded;
    return this.session.write(
      "RedisStore.put",
      async () => {
        const version = await online();
        if (json !== undefined) this.#remember(namespace, key, json, version, false);
        return version;
      },
      async () => {
        const known = this.#known.get(itemId(namespace, key));
        const chained = (known?.pending ?? 0) > 0;
        const header = {
          k: "store",
          ns: namespace,
          key,
          base: known?.version ?? null,
          known: known !== undefined,
          chained,
        };
        const text =
          json === undefined
            ? JSON.stringify({ value, options })
            : `{"value":${json ?? "null"},"options":${JSON.stringify(options)}}`;
        await this.session.append(header, Buffer.from(text, "utf8"));
        this.#remember(namespace, key, json ?? null, undefined, true);
        // The version is not known until the replay: 0 says so.
        return 0;
      },
    );
  }

  /** The item as this process last wrote or read it; OfflineReadError when it knows nothing of it. */
  localItem(namespace: string[], key: string): Item | null {
    const known = this.#known.get(itemId(namespace, key));
    if (known === undefined) {
      throw new OfflineReadError(
        `RedisStore.get: Redis is unreachable and this process holds no local state for ${JSON.stringify([...namespace, key])}`,
      );
    }
    if (known.json === null) return null;
    const value = JSON.parse(known.json) as Record<string, unknown>;
    return { namespace, key, value, createdAt: known.createdAt, updatedAt: known.updatedAt };
  }

  async ready(): Promise<void> {
    await this.session.ready();
    await this.#loaded;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

function decodeStoreRecord(record: JournalRecord) {
  const { ns, key, base, known, chained } = record.header;
  const body = JSON.parse(record.body.toString("utf8")) as { value: Value; options: StoreWriteOptions };
  return {
    namespace: ns as string[],
    key: String(key),
    base: known === true ? (base as number | null) : undefined,
    chained: chained === true,
    body,
  };
}

class StoreReplayer implements Replayer {
  readonly #ctx: StoreContext;
  /** Item -> the version its last replayed record left (the base of the item's next, chained record). */
  readonly #versions = new Map<string, number>();
  #found: OfflineConflict[] = [];

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async apply(record: JournalRecord): Promise<"applied" | "forked"> {
    const { namespace, key, base: recorded, chained, body } = decodeStoreRecord(record);
    const id = itemId(namespace, key);
    const { value, options } = body;
    const base = chained ? this.#versions.get(id) : recorded === null ? 0 : recorded;
    const current = await readVersioned(this.#ctx, namespace, key);
    const currentVersion = current?.version ?? 0;
    if (base === undefined) {
      // Nothing known to compare with: idempotent by value, otherwise written as it is.
      if (isDeepStrictEqual(current?.value ?? null, value) && current !== null) {
        this.#versions.set(id, currentVersion);
        return "applied";
      }
      this.#versions.set(id, await writeItem(this.#ctx, namespace, key, value, undefined, options));
      return "applied";
    }
    if (currentVersion > base) {
      const since = await readHistory(this.#ctx, namespace, key, Math.min(currentVersion - base, 1000));
      const mine = since.filter((entry) => entry.version > base && isDeepStrictEqual(entry.value, value)).at(-1);
      if (mine !== undefined) {
        // applied by an earlier replay of this journal
        this.#versions.set(id, mine.version);
        return "applied";
      }
      return this.#conflict(namespace, key, value, options, "version", base, currentVersion);
    }
    try {
      this.#versions.set(id, await writeItem(this.#ctx, namespace, key, value, base, options));
      return "applied";
    } catch (error) {
      if (error instanceof FencedWriteError) {
        return this.#conflict(namespace, key, value, options, "fenced", base, currentVersion);
      }
      if (error instanceof VersionConflictError) {
        return this.#conflict(namespace, key, value, options, "version", base, error.actualVersion);
      }
      throw error;
    }
  }

  /** Writes the offline value on top (both values stay in the history) and reports the conflict. */
  async #conflict(
    namespace: string[],
    key: string,
    value: Value,
    options: StoreWriteOptions,
    reason: "version" | "fenced",
    expectedVersion: number,
    remoteVersion: number | null,
  ): Promise<"forked"> {
    const { fence: _stale, ...rest } = options;
    const stored = await writeItem(this.#ctx, namespace, key, value, undefined, rest);
    this.#versions.set(itemId(namespace, key), stored);
    this.#found.push({
      kind: "item",
      namespace,
      key,
      reason,
      expectedVersion: expectedVersion === 0 ? null : expectedVersion,
      remoteVersion,
      storedVersion: stored,
    });
    return "forked";
  }

  takeConflicts(): OfflineConflict[] {
    const found = this.#found;
    this.#found = [];
    return found;
  }

  finished(): void {
    this.#versions.clear();
  }
}
