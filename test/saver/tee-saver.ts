/**
 * A checkpointer that writes every put and putWrites to a RedisSaver, to a MemorySaver (and to any `mirrors`), and
 * reads from the RedisSaver: a graph run through it exercises the Redis read path, and afterwards every checkpoint
 * MemorySaver holds can be compared with what RedisSaver returns for the same config.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  MemorySaver,
  type PendingWrite,
} from "@langchain/langgraph-checkpoint";
import type { RedisSaver } from "../../src/index.js";

export class TeeSaver extends BaseCheckpointSaver {
  constructor(
    readonly redis: RedisSaver,
    /** Shared between tees over one thread written by several savers. */
    readonly memory = new MemorySaver(),
    /** More savers written alike (a RedisSaver without retention, to compare a trimmed one with). */
    readonly mirrors: readonly BaseCheckpointSaver[] = [],
  ) {
    super();
  }

  override getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return this.redis.getTuple(config);
  }

  override list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    return this.redis.list(config, options);
  }

  override getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }) {
    return this.redis.getDeltaChannelHistory(options);
  }

  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    // Both serialise what they are given before they return, so sharing the objects is safe.
    const [stored] = await Promise.all([
      this.redis.put(config, checkpoint, metadata, newVersions),
      this.memory.put(config, checkpoint, metadata),
      ...this.mirrors.map((mirror) => mirror.put(config, checkpoint, metadata, newVersions)),
    ]);
    return stored;
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string) {
    await Promise.all([
      this.redis.putWrites(config, writes, taskId, taskPath),
      this.memory.putWrites(config, writes, taskId, taskPath),
      ...this.mirrors.map((mirror) => mirror.putWrites(config, writes, taskId, taskPath)),
    ]);
  }

  override async deleteThread(threadId: string): Promise<void> {
    await Promise.all([
      this.redis.deleteThread(threadId),
      this.memory.deleteThread(threadId),
      ...this.mirrors.map((mirror) => mirror.deleteThread(threadId)),
    ]);
  }

  override getNextVersion(current: number | undefined): number {
    return this.redis.getNextVersion(current);
  }
}

/**
 * MemorySaver keeps a checkpoint's channel_values exactly as put, including values of channels without a version
 * (LangGraph passes an empty `__pregel_tasks` list that way); a saver storing one blob per (channel, version), as
 * the conformance suite requires, has no version to store them under. Compare the channels that have a version.
 */
function versionedValues(checkpoint: Checkpoint | undefined): Checkpoint | undefined {
  if (checkpoint === undefined) return undefined;
  const versioned = Object.entries(checkpoint.channel_values).filter(([channel]) =>
    Object.hasOwn(checkpoint.channel_versions, channel),
  );
  return { ...checkpoint, channel_values: Object.fromEntries(versioned) };
}

/** Every checkpoint MemorySaver holds for `threadId` (all namespaces), compared with RedisSaver's getTuple. */
export async function expectSameCheckpoints(tee: TeeSaver, threadId: string): Promise<number> {
  let compared = 0;
  for await (const expected of tee.memory.list({ configurable: { thread_id: threadId } })) {
    const actual = await tee.redis.getTuple(expected.config);
    expect(actual?.config).toEqual(expected.config);
    expect(actual?.checkpoint).toEqual(versionedValues(expected.checkpoint));
    expect(actual?.metadata).toEqual(expected.metadata);
    expect(actual?.parentConfig).toEqual(expected.parentConfig);
    expect(actual?.pendingWrites).toEqual(expected.pendingWrites);
    compared++;
  }
  // list() pages through the same checkpoints with shared bases: newest first, equal values.
  const listed: CheckpointTuple[] = [];
  for await (const tuple of tee.redis.list({ configurable: { thread_id: threadId } })) listed.push(tuple);
  expect(listed).toHaveLength(compared);
  for (const tuple of listed) {
    const expected = await tee.memory.getTuple(tuple.config);
    expect(tuple.checkpoint).toEqual(versionedValues(expected?.checkpoint));
  }
  return compared;
}
