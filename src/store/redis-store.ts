import { BaseStore, type Operation, type OperationResults } from "@langchain/langgraph-checkpoint";
import { buildOnOwnedClient, type ClientFromUrlOptions } from "../client.js";
import { InvalidInputError, InvalidOptionError } from "../errors.js";
import type { OfflineEvents, OfflineState, ReplayResult } from "../offline/session.js";
import { offlineBatch } from "../offline/store/offline-batch.js";
import { frozenValue, StoreOffline } from "../offline/store/offline-store.js";
import { listenOffline, offlinePendingOf, offlineStateOf, replayOfflineOf } from "../offline/surface.js";
import { parseOptions } from "../options.js";
import { initTelemetry, namespaceAttributes, traced } from "../telemetry/index.js";
import { ATTR } from "../telemetry/names.js";
import type { Attributes } from "../telemetry/otel.js";
import { executeBatch } from "./batch.js";
import { readVersioned, type UpdateFn, type UpdateOptions, updateItem, type VersionedItem } from "./cas.js";
import type { HistoryEntry } from "./codec.js";
import { createContext, type StoreContext } from "./context.js";
import { writeItem } from "./crud/write-item.js";
import { readHistory } from "./history.js";
import { checkItemKey, checkNamespace } from "./namespace.js";
import {
  type RedisStoreOptions,
  type RedisStoreUrlOptions,
  redisStoreOptionsSchema,
  type StoreWriteOptions,
  writeOptionsSchema,
} from "./options.js";
import { type ReindexResult, reindexStep } from "./reindex.js";
import { type SweepResult, sweepStep } from "./ttl.js";

/**
 * LangGraph's BaseStore on Redis: shared, namespaced JSON memory for every agent and process, with version history,
 * compare-and-set, fencing, TTL and optional semantic search, on a standalone server or Redis Cluster.
 * Pass it to `compile({ store })`, or call it directly from any process. See docs/store.md.
 */
export class RedisStore extends BaseStore {
  readonly #ctx: StoreContext;
  readonly #offline: StoreOffline | undefined;

  constructor(options: RedisStoreOptions) {
    super();
    const parsed = parseOptions(redisStoreOptionsSchema, options, "RedisStore");
    if (parsed.offline !== undefined && parsed.encryption !== undefined) {
      throw new InvalidOptionError(
        "RedisStore.offline",
        parsed.offline,
        "no offline journal together with `encryption` (the store's journal would hold values unencrypted)",
      );
    }
    this.#ctx = createContext(parsed);
    this.#offline = parsed.offline === undefined ? undefined : new StoreOffline(this.#ctx, parsed.offline);
    initTelemetry();
  }

  /** Opens its own client from a redis:// (or redis+cluster://) URL; close() closes it. */
  static fromUrl(url: string, options: RedisStoreUrlOptions = {}, redisOptions: ClientFromUrlOptions = {}): RedisStore {
    return buildOnOwnedClient(url, redisOptions, (client) => new RedisStore({ ...options, client }));
  }

  /** The semantic search configuration, when `index` was given. */
  get indexConfig() {
    return this.#ctx.options.index;
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    return traced(batchOperationName(operations), batchAttributes(operations), async () => {
      if (this.#offline !== undefined)
        return (await offlineBatch(this.#ctx, this.#offline, operations)) as OperationResults<Op>;
      await this.#ctx.ready();
      const { results } = await executeBatch(this.#ctx, operations);
      return results as OperationResults<Op>;
    });
  }

  /**
   * Stores an item (null deletes it). The fourth argument is either BaseStore's `index` (fields to embed, or false)
   * or write options: `{ writer, ttlMs, fence, index }`.
   */
  override async put(
    namespace: string[],
    key: string,
    value: Record<string, unknown> | null,
    indexOrOptions?: false | string[] | StoreWriteOptions,
  ): Promise<void> {
    checkNamespace(namespace, {});
    const options = isWriteOptions(indexOrOptions) ? indexOrOptions : { index: indexOrOptions };
    await traced("RedisStore.put", namespaceAttributes(namespace), () =>
      this.#write(namespace, key, value, undefined, options),
    );
  }

  /** Deletes an item; accepts `{ writer, fence }` (the delete is recorded in the item's history). */
  override async delete(namespace: string[], key: string, options: StoreWriteOptions = {}): Promise<void> {
    checkNamespace(namespace, { allowEmpty: true, allowReservedRoot: true });
    await traced("RedisStore.delete", namespaceAttributes(namespace), () =>
      this.#write(namespace, key, null, undefined, options),
    );
  }

  /**
   * Compare-and-set: writes (or deletes, with null) only if the item is at `expectedVersion` (null or 0: only if it
   * does not exist), else throws VersionConflictError and writes nothing. Returns the item's new version.
   */
  async putIfVersion(
    namespace: string[],
    key: string,
    value: Record<string, unknown> | null,
    expectedVersion: number | null,
    options: StoreWriteOptions = {},
  ): Promise<number> {
    checkNamespace(namespace, {});
    if (expectedVersion !== null && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0)) {
      throw new InvalidInputError(`expectedVersion must be null or a non-negative integer, got ${expectedVersion}`);
    }
    return traced("RedisStore.putIfVersion", namespaceAttributes(namespace), () =>
      this.#write(namespace, key, value, expectedVersion ?? 0, options),
    );
  }

  /**
   * Read-modify-write with no lost update: applies `fn` to the current value (null when absent) and writes the result
   * (null deletes) only if nobody wrote in between, retrying up to `maxAttempts` times. Returns what was written.
   */
  async update(
    namespace: string[],
    key: string,
    fn: UpdateFn,
    options: UpdateOptions = {},
  ): Promise<{ value: Record<string, unknown> | null; version: number }> {
    checkNamespace(namespace, {});
    checkItemKey(key);
    const { maxAttempts, ...writeOptions } = options;
    if (maxAttempts !== undefined && (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)) {
      throw new InvalidInputError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
    }
    const parsed = parseOptions(writeOptionsSchema, writeOptions, "update options");
    return traced("RedisStore.update", namespaceAttributes(namespace), async () => {
      await this.#ctx.ready();
      return updateItem(this.#ctx, namespace, key, fn, { ...parsed, maxAttempts });
    });
  }

  /** The item with its version, last writer and expiry, or null. */
  async getWithVersion(namespace: string[], key: string): Promise<VersionedItem | null> {
    checkNamespace(namespace, { allowReservedRoot: true });
    checkItemKey(key);
    return traced("RedisStore.getWithVersion", namespaceAttributes(namespace), async () => {
      await this.#ctx.ready();
      const item = await readVersioned(this.#ctx, namespace, key);
      this.#offline?.rememberRead(namespace, key, frozenValue(item?.value ?? null), item?.version ?? 0);
      return item;
    });
  }

  /** Who wrote what to this item, in which order: newest first, at most `limit` (default: all kept) entries. */
  async history(namespace: string[], key: string, options: { limit?: number } = {}): Promise<HistoryEntry[]> {
    checkNamespace(namespace, { allowReservedRoot: true });
    checkItemKey(key);
    const limit = options.limit ?? this.#ctx.options.historyLimit;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidInputError(`history limit must be a positive integer, got ${limit}`);
    }
    return traced("RedisStore.history", namespaceAttributes(namespace), () =>
      readHistory(this.#ctx, namespace, key, limit),
    );
  }

  /**
   * One bounded clean-up step for TTL'd items: checks up to `maxNamespaces` namespaces after `cursor`, removing
   * expired items and their index entries and unregistering namespaces left empty. Reads and writes clean up too;
   * this is for stores where expired data would otherwise sit unread.
   */
  async sweepExpired(options: { cursor?: string | null; maxNamespaces?: number } = {}): Promise<SweepResult> {
    const maxNamespaces = options.maxNamespaces ?? 100;
    if (!Number.isSafeInteger(maxNamespaces) || maxNamespaces < 1) {
      throw new InvalidInputError(`maxNamespaces must be a positive integer, got ${maxNamespaces}`);
    }
    return traced("RedisStore.sweepExpired", {}, async () => {
      await this.#ctx.ready();
      return sweepStep(this.#ctx, options.cursor ?? null, maxNamespaces);
    });
  }

  /**
   * One bounded step of indexing items written before their fields were declared in `filterIndex`: sets the index
   * entries of up to `maxItems` items of one namespace (under `namespacePrefix`, default every namespace) after
   * `cursor`. Call it again with the returned cursor until it is null (docs/store.md, "Reindexing").
   */
  async reindex(
    options: { cursor?: string | null; maxItems?: number; namespacePrefix?: string[] } = {},
  ): Promise<ReindexResult> {
    const maxItems = options.maxItems ?? 500;
    if (!Number.isSafeInteger(maxItems) || maxItems < 1 || maxItems > 10_000) {
      throw new InvalidInputError(`maxItems must be an integer from 1 to 10000, got ${maxItems}`);
    }
    const prefix = options.namespacePrefix ?? [];
    if (prefix.length > 0) checkNamespace(prefix, { allowReservedRoot: true });
    return traced("RedisStore.reindex", {}, async () => {
      await this.#ctx.ready();
      return reindexStep(this.#ctx, prefix, options.cursor ?? null, maxItems);
    });
  }

  /** Nothing to start: the store is ready once constructed. */
  override start(): void {}

  /** Nothing to stop (LangGraph never calls it); close() releases the client the store opened. */
  override stop(): void {}

  /** With the `offline` option: "online", "offline" or "replaying" (docs/offline.md); without it "online". */
  get offlineState(): OfflineState {
    return offlineStateOf(this.#offline);
  }

  /** With the `offline` option: journal records not yet replayed into Redis. */
  get offlinePendingRecords(): number {
    return offlinePendingOf(this.#offline);
  }

  /** The `offline` option's events, as on RedisSaver ("offline", "online", "conflict", "corrupt"). */
  on<E extends keyof OfflineEvents>(event: E, listener: (...args: OfflineEvents[E]) => void): this {
    listenOffline(this.#offline, "on", event, listener);
    return this;
  }

  off<E extends keyof OfflineEvents>(event: E, listener: (...args: OfflineEvents[E]) => void): this {
    listenOffline(this.#offline, "off", event, listener);
    return this;
  }

  /** With the `offline` option: replays the journal now if Redis answers (as RedisSaver.replayOffline). */
  replayOffline(): Promise<ReplayResult> {
    return replayOfflineOf(this.#offline);
  }

  /**
   * Closes the client if the store opened it (fromUrl); a client you passed in stays open. With the `offline` option
   * the journal is closed too; records not yet replayed stay in it for the next start.
   */
  async close(): Promise<void> {
    await this.#offline?.close();
    await this.#ctx.close();
  }

  async #write(
    namespace: string[],
    key: string,
    value: Record<string, unknown> | null,
    expectedVersion: number | null | undefined,
    options: StoreWriteOptions,
  ): Promise<number> {
    checkItemKey(key);
    const parsed = parseOptions(writeOptionsSchema, options, "write options");
    const online = async () => {
      await this.#ctx.ready();
      return writeItem(this.#ctx, namespace, key, value, expectedVersion, parsed);
    };
    // A compare-and-set needs Redis to decide; only unconditional writes can wait in the journal.
    if (this.#offline === undefined || expectedVersion !== undefined) return online();
    return this.#offline.write(namespace, key, value, frozenValue(value), parsed, online);
  }
}

/** One operation is named after its kind (what BaseStore's get/search/put/listNamespaces send); more: batch. */
function batchOperationName(operations: readonly Operation[]): string {
  const [only] = operations;
  if (operations.length !== 1 || only === undefined) return "RedisStore.batch";
  if ("namespacePrefix" in only) return "RedisStore.search";
  if ("matchConditions" in only || "maxDepth" in only) return "RedisStore.listNamespaces";
  if ("value" in only) return only.value === null ? "RedisStore.delete" : "RedisStore.put";
  if ("namespace" in only && "key" in only) return "RedisStore.get";
  return "RedisStore.batch";
}

function batchAttributes(operations: readonly Operation[]): Attributes {
  const namespaces = new Set<string>();
  for (const op of operations) {
    const namespace = "namespace" in op ? op.namespace : "namespacePrefix" in op ? op.namespacePrefix : undefined;
    if (Array.isArray(namespace)) namespaces.add(namespace.join("."));
  }
  return {
    [ATTR.batchSize]: operations.length,
    ...(namespaces.size === 1 ? { [ATTR.namespace]: [...namespaces][0] as string } : {}),
  };
}

function isWriteOptions(value: unknown): value is StoreWriteOptions {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
