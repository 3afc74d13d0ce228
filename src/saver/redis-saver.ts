import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type DeltaChannelHistory,
  type PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { buildOnOwnedClient, type ClientFromUrlOptions, type RedisClient } from "../client.js";
import { SaverOffline } from "../offline/saver/offline-saver.js";
import {
  OFFLINE_SESSION,
  type OfflineEvents,
  type OfflineSession,
  type OfflineState,
  type ReplayResult,
} from "../offline/session.js";
import { listenOffline, offlinePendingOf, offlineStateOf, replayOfflineOf } from "../offline/surface.js";
import { initTelemetry, threadAttributes, traced, tracedGenerator } from "../telemetry/index.js";
import { createSaverContext, type SaverContext } from "./context.js";
import { type CopyThreadResult, copyThread } from "./copy-thread.js";
import { type DeleteForRunsResult, deleteForRuns } from "./delete-for-runs.js";
import { deleteThread } from "./delete-thread.js";
import { getDeltaChannelHistory } from "./delta-history.js";
import { getTuple } from "./get-tuple.js";
import { listCheckpoints } from "./list.js";
import {
  parseSaverOptions,
  parseSaverUrlOptions,
  type RedisSaverOptions,
  type RedisSaverUrlOptions,
} from "./options.js";
import { isPinned, setPinned } from "./pin.js";
import { type PruneOptions, type PruneResult, pruneThreads } from "./prune.js";
import { putCheckpoint } from "./put.js";
import { putWrites } from "./put-writes.js";
import {
  DELETE_OWN_RUN,
  MARK_RUN_LIVE,
  markRunLive,
  RAISE_RUN_FENCE,
  type RunFence,
  type RunLive,
  raiseRunFence,
} from "./run-fence.js";
import { type SweepExpiredResult, sweepExpired } from "./sweep-expired.js";
import type { ThreadStatus } from "./threads/record.js";
import { registerQuietly, SET_THREAD_STATUS } from "./threads/register.js";
import { ThreadRegistry } from "./threads/thread-registry.js";
import { nextChannelVersion } from "./versions.js";

/**
 * LangGraph checkpointer on Redis or Redis Cluster. Pass it as `checkpointer` to `compile()`.
 *
 * put and putWrites are one Lua script each, getTuple and each page of list one read script; every key of a
 * thread shares a hash tag. See docs/checkpointer.md for the key layout and guarantees.
 */
export class RedisSaver extends BaseCheckpointSaver {
  readonly #context: SaverContext;
  readonly #threads: ThreadRegistry;
  readonly #offline: SaverOffline | undefined;

  constructor(options: RedisSaverOptions) {
    const parsed = parseSaverOptions(options);
    super(parsed.serde);
    this.#context = createSaverContext({ ...parsed, serde: this.serde });
    this.#threads = new ThreadRegistry(this.#context);
    this.#offline = parsed.offline === undefined ? undefined : new SaverOffline(this.#context, parsed.offline);
    initTelemetry();
  }

  /**
   * Opens its own client from a redis:// (or redis+cluster://) URL; close() closes it. `clientOptions` are ioredis
   * options, with `cluster` for the Cluster a cluster URL opens (see clientFromUrl).
   */
  static fromUrl(
    url: string,
    options: RedisSaverUrlOptions = {},
    clientOptions: ClientFromUrlOptions = {},
  ): RedisSaver {
    const parsed = parseSaverUrlOptions(options);
    return buildOnOwnedClient(url, clientOptions, (client) => new RedisSaver({ ...parsed, client }));
  }

  /** The client this saver uses. */
  get client(): RedisClient {
    return this.#context.client;
  }

  /** The key prefix every key of this saver starts with. */
  get keyPrefix(): string {
    return this.#context.keyPrefix;
  }

  /**
   * The thread registry: each thread's status (idle, busy, interrupted, error), created and updated times and
   * metadata, with search and count over declared metadata fields (docs/runs.md).
   */
  get threads(): ThreadRegistry {
    return this.#threads;
  }

  override getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const offline = this.#offline;
    return traced(
      "RedisSaver.getTuple",
      () => threadAttributes(config),
      () => (offline ? offline.getTuple(config) : getTuple(this.#context, config)),
    );
  }

  override list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const offline = this.#offline;
    return tracedGenerator(
      "RedisSaver.list",
      () => threadAttributes(config),
      () => (offline ? offline.list(config, options) : listCheckpoints(this.#context, config, options)),
    );
  }

  override put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const offline = this.#offline;
    return traced(
      "RedisSaver.put",
      () => threadAttributes(config),
      () =>
        offline
          ? offline.put(config, checkpoint, metadata, newVersions)
          : putCheckpoint(this.#context, config, checkpoint, metadata, newVersions),
    );
  }

  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const offline = this.#offline;
    return traced(
      "RedisSaver.putWrites",
      () => threadAttributes(config),
      () =>
        offline
          ? offline.putWrites(config, writes, taskId, taskPath)
          : putWrites(this.#context, config, writes, taskId, taskPath),
    );
  }

  override deleteThread(threadId: string): Promise<void> {
    return traced("RedisSaver.deleteThread", threadAttributes({ configurable: { thread_id: threadId } }), () =>
      deleteThread(this.#context, threadId),
    );
  }

  /**
   * What a DeltaChannel needs to rebuild its value: per channel, the writes on the path to the checkpoint and the
   * nearest stored value (seed). One script call per page of up to 500 ancestors, instead of one getTuple each.
   */
  override getDeltaChannelHistory(options: {
    config: RunnableConfig;
    channels: string[];
  }): Promise<Record<string, DeltaChannelHistory>> {
    const offline = this.#offline;
    return offline
      ? offline.getDeltaChannelHistory(options?.config, options?.channels)
      : getDeltaChannelHistory(this.#context, options?.config, options?.channels);
  }

  /**
   * Copies a whole thread (every namespace, its pending writes and blobs) into `toThreadId`, which must have no data
   * (else ThreadExistsError, nothing written) and no live leased run writing it (else ThreadLeasedError). The
   * destination appears whole or not at all. A source with no data copies nothing. Python's copy_thread.
   */
  copyThread(fromThreadId: string, toThreadId: string): Promise<CopyThreadResult> {
    return copyThread(this.#context, fromThreadId, toThreadId);
  }

  /**
   * Removes every checkpoint whose run id (metadata run_id, or the run_id in the metadata of the config put()
   * received) is one of `runIds`, with the pending writes stored against them and the blobs nothing else needs.
   * Atomic per thread. Python's delete_for_runs. Threads that a live leased run (withRunLease) is writing are left
   * alone: once the other threads are cleaned, ThreadLeasedError names them all (`error.threads`).
   */
  deleteForRuns(runIds: readonly string[]): Promise<DeleteForRunsResult> {
    return deleteForRuns(this.#context, runIds);
  }

  /**
   * Trims existing threads: `{ keepLast: N }` keeps the newest N checkpoints of each namespace, `{ strategy:
   * "keep_latest" }` (the default) the latest one, both with everything a kept checkpoint needs to be read;
   * `{ strategy: "delete" }` deletes the threads. Pinned threads are left alone, and so are threads a live leased
   * run is writing under "delete" (listed in `leased`). Python's prune(thread_ids, strategy).
   */
  prune(threadIds: readonly string[], options?: PruneOptions): Promise<PruneResult> {
    return traced("RedisSaver.prune", {}, () => pruneThreads(this.#context, threadIds, options));
  }

  /** Exempts a thread from retention, prune() and the keepLatest TTL sweep; true when it was not pinned yet. */
  pin(threadId: string): Promise<boolean> {
    return setPinned(this.#context, threadId, true);
  }

  /** Ends pin(threadId); true when the thread was pinned. */
  unpin(threadId: string): Promise<boolean> {
    return setPinned(this.#context, threadId, false);
  }

  /** Whether pin(threadId) holds for the thread. */
  isPinned(threadId: string): Promise<boolean> {
    return isPinned(this.#context, threadId);
  }

  /**
   * With `ttl: { defaultTtlMs, strategy: "keepLatest" }`: trims every thread idle for defaultTtlMs to its latest
   * checkpoint. Call it periodically; pass the previous result's nextSinceMs as sinceMs to visit only threads that
   * went idle since. Throws InvalidInputError with any other TTL strategy.
   */
  sweepExpired(options?: { sinceMs?: number }): Promise<SweepExpiredResult> {
    return traced("RedisSaver.sweepExpired", {}, () => sweepExpired(this.#context, options));
  }

  override getNextVersion(current: number | undefined): number {
    return nextChannelVersion(current);
  }

  /** Internal (withRunLease): the offline session, to re-validate a run's lease before the journal is replayed. */
  [OFFLINE_SESSION](): OfflineSession | undefined {
    return this.#offline?.session;
  }

  /** Internal (withRunLease): records a run's lease token on its thread, so writes of older leases are refused. */
  [RAISE_RUN_FENCE](fence: RunFence, live?: RunLive): Promise<void> {
    return raiseRunFence(this.#context, fence, live);
  }

  /** Internal (withRunLease, cancelRun): refreshes or removes a leased run's live mark on its thread. */
  [MARK_RUN_LIVE](
    threadId: string,
    field: string,
    mark: { token: number; liveMs: number; runId: string },
  ): Promise<boolean> {
    return markRunLive(this.#context, threadId, field, mark);
  }

  /** Internal (withRunLease): deleteForRuns by the leased run itself, removing what it wrote (rollback). */
  [DELETE_OWN_RUN](runIds: string[], fence: RunFence): Promise<DeleteForRunsResult> {
    return deleteForRuns(this.#context, runIds, fence);
  }

  /** Internal (withRunLease): records the status of a leased run's thread. Never throws. */
  [SET_THREAD_STATUS](threadId: string, status: ThreadStatus): Promise<void> {
    return registerQuietly(this.#context, threadId, { status, touch: false });
  }

  /**
   * With the `offline` option: "online", "offline" (writes go to the journal) or "replaying" (the journal is being
   * applied to Redis). Without it: always "online".
   */
  get offlineState(): OfflineState {
    return offlineStateOf(this.#offline);
  }

  /** With the `offline` option: journal records not yet replayed into Redis. */
  get offlinePendingRecords(): number {
    return offlinePendingOf(this.#offline);
  }

  /**
   * Listens to the `offline` option's events: "offline" (Redis became unreachable; writes go to the journal),
   * "online" (the journal was replayed; a ReplayResult), "conflict" (another process advanced a thread meanwhile; the
   * offline branch went to a fork thread) and "corrupt" (the journal had a corrupt tail, moved aside). No-op without
   * the option.
   */
  on<E extends keyof OfflineEvents>(event: E, listener: (...args: OfflineEvents[E]) => void): this {
    listenOffline(this.#offline, "on", event, listener);
    return this;
  }

  off<E extends keyof OfflineEvents>(event: E, listener: (...args: OfflineEvents[E]) => void): this {
    listenOffline(this.#offline, "off", event, listener);
    return this;
  }

  /**
   * With the `offline` option: replays the journal now if Redis answers (the saver also does so by itself, every
   * probeIntervalMs). Resolves once the journal is empty and the saver is online; rejects with RedisConnectionError
   * while Redis is unreachable. Without the option: resolves at once with nothing replayed.
   */
  replayOffline(): Promise<ReplayResult> {
    return replayOfflineOf(this.#offline);
  }

  /**
   * Closes the client if this saver opened it (fromUrl); a client passed in is left open. With the `offline` option
   * the journal is closed too; records not yet replayed stay in it for the next start.
   */
  async close(): Promise<void> {
    await this.#offline?.close();
    await this.#context.close();
  }
}
