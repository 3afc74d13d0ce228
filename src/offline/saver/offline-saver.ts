/**
 * RedisSaver with the `offline` option (docs/offline.md): put and putWrites go to Redis while it answers and to the
 * journal while it does not; getTuple and list answer from what this process last wrote or read for the thread
 * while Redis is unreachable, or while the thread still has journal records waiting to be replayed.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type {
  ChannelVersions,
  Checkpoint,
  CheckpointListOptions,
  CheckpointMetadata,
  CheckpointTuple,
  DeltaChannelHistory,
  PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { InvalidInputError, OfflineReadError } from "../../errors.js";
import { readOptionalThreadConfig, readThreadConfig, requireCheckpointId } from "../../saver/config.js";
import type { SaverContext } from "../../saver/context.js";
import { tupleConfig } from "../../saver/decode.js";
import { decodeHeldHistory, readDeltaChannelHistory, readDeltaHistoryInput } from "../../saver/delta-history.js";
import { getTuple } from "../../saver/get-tuple.js";
import { listCheckpoints } from "../../saver/list.js";
import { type PutDumps, putCheckpoint, requirePutInput } from "../../saver/put.js";
import { putWrites } from "../../saver/put-writes.js";
import { readRunFence } from "../../saver/run-fence.js";
import type { ParsedOfflineOptions } from "../options.js";
import { OfflineSession } from "../session.js";
import { decodeSaverRecord, encodeSaverRecord, storedConfig } from "./records.js";
import { SaverReplayer } from "./replay-saver.js";
import { SaverShadow } from "./shadow.js";

export class SaverOffline {
  readonly session: OfflineSession;
  readonly #context: SaverContext;
  readonly #shadow: SaverShadow;
  readonly #replayer: SaverReplayer;
  /** The records an earlier process left, loaded into the shadow so reads see them. */
  readonly #loaded: Promise<void>;

  constructor(context: SaverContext, options: ParsedOfflineOptions) {
    this.#context = context;
    this.#shadow = new SaverShadow(options.cacheEntries, context);
    this.session = new OfflineSession(context.client, options, "saver", "RedisSaver");
    this.#replayer = new SaverReplayer(context);
    const replayer = this.#replayer;
    const shadow = this.#shadow;
    this.session.attach({
      apply: (record, upcoming) => replayer.apply(record, upcoming),
      takeConflicts: () => replayer.takeConflicts(),
      finished: () => {
        shadow.settle(replayer.forkedThreads);
        replayer.finished();
      },
    });
    this.#loaded = this.session.ready().then(async () => {
      for (const record of [...this.session.pendingRecords]) {
        try {
          this.#remember(await decodeSaverRecord(context.serde, record));
        } catch {
          // an undecodable record is reported by the replay, which sets it aside
        }
      }
    });
    this.#loaded.catch(() => undefined);
  }

  #remember(record: Awaited<ReturnType<typeof decodeSaverRecord>>): void {
    const shadow = this.#shadow;
    if (record.kind === "put") {
      const { threadId, ns, checkpoint } = record;
      const kept = shadow.keep(threadId, ns, checkpoint, record.metadata);
      shadow.rememberPut(threadId, ns, checkpoint.id, kept, record.parentId, true);
    } else {
      shadow.rememberWrites(
        record.threadId,
        record.ns,
        record.checkpointId,
        shadow.freezeWrites(record.writes),
        record.taskId,
        record.taskPath,
        true,
      );
    }
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const operation = "RedisSaver.put";
    const { threadId, ns, checkpointId: parentId } = readThreadConfig(config, operation);
    readRunFence(config, operation);
    if (checkpoint === null || typeof checkpoint !== "object" || typeof checkpoint.id !== "string" || !checkpoint.id) {
      throw new InvalidInputError(`${operation}: the checkpoint has no id (expected a non-empty string)`);
    }
    // Refused now rather than at replay, when the caller has long moved on.
    requirePutInput(threadId, ns, checkpoint, newVersions, parentId);
    await this.#loaded;
    const shadow = this.#shadow;
    return this.session.write(
      operation,
      async () => {
        // What the put serialises is what this process keeps: the caller may change its objects after the call.
        let dumps: PutDumps | undefined;
        const stored = await putCheckpoint(this.#context, config, checkpoint, metadata, newVersions, (kept) => {
          dumps = kept;
        });
        const kept = shadow.keep(threadId, ns, checkpoint, metadata, dumps);
        shadow.rememberPut(threadId, ns, checkpoint.id, kept, parentId, false);
        return stored;
      },
      async () => {
        const kept = shadow.keep(threadId, ns, checkpoint, metadata);
        const { header, body } = await encodeSaverRecord(this.#context.serde, {
          kind: "put",
          threadId,
          ns,
          checkpointId: checkpoint.id,
          parentId,
          config: storedConfig(config),
          checkpoint,
          metadata,
          newVersions: newVersions ?? {},
        });
        await this.session.append(header, body);
        shadow.rememberPut(threadId, ns, checkpoint.id, kept, parentId, true);
        return tupleConfig(threadId, ns, checkpoint.id);
      },
    );
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ""): Promise<void> {
    const operation = "RedisSaver.putWrites";
    const thread = readThreadConfig(config, operation);
    const checkpointId = requireCheckpointId(thread, operation);
    readRunFence(config, operation);
    if (typeof taskId !== "string") {
      throw new InvalidInputError(`${operation}: taskId must be a string, received ${typeof taskId}`);
    }
    if (!Array.isArray(writes)) throw new InvalidInputError(`${operation}: writes must be an array`);
    if (writes.length === 0) return;
    const { threadId, ns } = thread;
    const frozen = this.#shadow.freezeWrites(writes);
    await this.#loaded;
    await this.session.write(
      operation,
      async () => {
        await putWrites(this.#context, config, writes, taskId, taskPath);
        this.#shadow.rememberWrites(threadId, ns, checkpointId, frozen, taskId, taskPath, false);
      },
      async () => {
        const { header, body } = await encodeSaverRecord(this.#context.serde, {
          kind: "writes",
          threadId,
          ns,
          checkpointId,
          config: storedConfig(config),
          writes,
          taskId,
          taskPath,
        });
        await this.session.append(header, body);
        this.#shadow.rememberWrites(threadId, ns, checkpointId, frozen, taskId, taskPath, true);
      },
    );
  }

  /** Whether reads of `threadId` must come from local state: offline, or its journal records are not replayed yet. */
  #local(threadId: string): boolean {
    return this.session.state === "offline" || this.#shadow.hasOffline(threadId);
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const operation = "RedisSaver.getTuple";
    const { threadId, ns = "", checkpointId } = readOptionalThreadConfig(config, operation);
    if (threadId === undefined) return undefined;
    await this.session.ready();
    await this.#loaded;
    if (!this.#local(threadId)) {
      try {
        const tuple = await this.session.bounded(() => getTuple(this.#context, config), operation);
        if (tuple !== undefined) this.#shadow.rememberTuple(tuple);
        return tuple;
      } catch (error) {
        if (!this.session.isOutage(error)) throw error;
        this.session.goOffline(error);
      }
    }
    const tuple = await this.#shadow.get(threadId, ns, checkpointId);
    if (tuple === undefined) throw this.#unknown(operation, threadId, checkpointId);
    return tuple;
  }

  async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const operation = "RedisSaver.list";
    const scope = readOptionalThreadConfig(config ?? {}, operation);
    await this.session.ready();
    await this.#loaded;
    const threadId = scope.threadId;
    if (threadId === undefined || !this.#local(threadId)) {
      const source = listCheckpoints(this.#context, config, options);
      let yielded = false;
      try {
        for (;;) {
          const next = await this.session.bounded(() => source.next(), operation);
          if (next.done) return;
          yielded = true;
          yield next.value;
        }
      } catch (error) {
        // Only a list that had not started can switch to local state (a half-listed thread would repeat itself).
        if (!this.session.isOutage(error) || yielded || threadId === undefined) throw error;
        this.session.goOffline(error);
      } finally {
        // not awaited: after an abandoned call the generator may still wait for Redis
        void source.return(undefined).catch(() => undefined);
      }
    }
    if (!this.#shadow.knows(threadId)) throw this.#unknown(operation, threadId, undefined);
    yield* await this.#shadow.list(threadId, scope.ns, scope.checkpointId, options);
  }

  /**
   * Read from Redis while it answers; offline, built from the writes of the ancestors this process holds, back to
   * their stored values or to the history it read last from Redis (the history cache holds it as bytes, decoded anew
   * here, so without `deltaHistoryCache` only the ancestors' stored values can end the walk).
   */
  async getDeltaChannelHistory(
    config: RunnableConfig,
    channels: string[],
  ): Promise<Record<string, DeltaChannelHistory>> {
    const operation = "RedisSaver.getDeltaChannelHistory";
    const thread = readDeltaHistoryInput(config, channels);
    const { threadId, ns, checkpointId } = thread;
    if (channels.length === 0) return {};
    await this.session.ready();
    await this.#loaded;
    if (!this.#local(threadId)) {
      try {
        const history = await this.session.bounded(
          () => readDeltaChannelHistory(this.#context, thread, channels),
          operation,
        );
        if (checkpointId !== undefined) this.#shadow.rememberHistoryRead(threadId, ns, checkpointId);
        return history;
      } catch (error) {
        if (!this.session.isOutage(error)) throw error;
        this.session.goOffline(error);
      }
    }
    const held = await decodeHeldHistory(this.#context, threadId, ns, channels);
    const history = await this.#shadow.deltaHistory(threadId, ns, checkpointId, channels, held);
    if (history === undefined) {
      throw new OfflineReadError(
        `${operation}: Redis is unreachable and this process does not hold the ancestors of ` +
          `${checkpointId === undefined ? "the newest checkpoint" : `checkpoint ${JSON.stringify(checkpointId)}`} ` +
          `of thread ${JSON.stringify(threadId)} back to a stored value (it answers offline from the checkpoints it ` +
          "wrote or read since its last load of the thread from Redis)",
      );
    }
    return history;
  }

  #unknown(operation: string, threadId: string, checkpointId: string | undefined): OfflineReadError {
    return new OfflineReadError(
      `${operation}: Redis is unreachable and this process holds no local state for ` +
        (checkpointId === undefined
          ? `thread ${JSON.stringify(threadId)}`
          : `checkpoint ${JSON.stringify(checkpointId)} of thread ${JSON.stringify(threadId)}`) +
        " (it answers offline only for threads it wrote or read since it started)",
    );
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
