/**
 * put(): serialises the checkpoint (without its channel values), its metadata and the values of the channels in
 * newVersions, then stores them with one script (saverPut): blobs, record (with its refs) and both index entries commit
 * together, and the thread's TTL restarts. On a standalone server the same script updates the cross-thread index;
 * on a cluster (the index lives in another slot) a second script does, sent concurrently.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { blobField, blobRef, checkpointField, checkpointIdMember, encodeRefs, frame } from "./codec.js";
import { readThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { tupleConfig } from "./decode.js";
import { dumpCheckpointValue } from "./dump-checkpoint-value.js";
import { inScriptThreadIndexKey, TRIM_GRACE_MS, touchThread } from "./thread-index.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";

export async function putCheckpoint(
  context: SaverContext,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
): Promise<RunnableConfig> {
  const { threadId, ns, checkpointId: parentId } = readThreadConfig(config, "RedisSaver.put");
  if (checkpoint === null || typeof checkpoint !== "object" || typeof checkpoint.id !== "string" || !checkpoint.id) {
    throw new InvalidInputError("RedisSaver.put: the checkpoint has no id (expected a non-empty string)");
  }
  requireWellFormed({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id }, "RedisSaver.put");
  for (const channel of new Set([
    ...Object.keys(newVersions ?? {}),
    ...Object.keys(checkpoint.channel_versions ?? {}),
  ])) {
    requireWellFormedInput({ "channel name": channel }, "RedisSaver.put");
  }
  const keys = saverThreadKeys(context.keyPrefix, threadId);

  const { channel_values: channelValues, ...rest } = checkpoint;
  const stored: Checkpoint = { ...rest, channel_values: {} };
  const [[checkpointType, checkpointBytes], [metadataType, metadataBytes], blobs] = await Promise.all([
    dumpCheckpointValue(
      context.serde,
      stored,
      () => `RedisSaver.put: checkpoint ${JSON.stringify(checkpoint.id)}`,
      context.maxValueBytes,
    ),
    dumpCheckpointValue(context.serde, metadata, () => "RedisSaver.put: the metadata", context.maxValueBytes),
    Promise.all(
      Object.entries(newVersions ?? {}).map(async ([channel, version]) => {
        const field = blobField(ns, channel, version);
        if (!Object.hasOwn(channelValues ?? {}, channel)) return [field, frame([])] as const;
        const [type, bytes] = await dumpCheckpointValue(
          context.serde,
          channelValues[channel],
          () => `RedisSaver.put: the value of channel ${JSON.stringify(channel)}`,
          context.maxValueBytes,
        );
        return [field, frame([type, bytes])] as const;
      }),
    ),
  ]);
  const refs = Object.entries(checkpoint.channel_versions ?? {}).map(([channel, version]) => blobRef(channel, version));

  const args: ScriptArgs<"saverPut"> = [
    context.ttlMs,
    checkpointField(ns, checkpoint.id),
    checkpointIdMember(ns, checkpoint.id),
    frame([encodeRefs(parentId, refs), checkpointType, checkpointBytes, metadataType, metadataBytes]),
    threadId,
    TRIM_GRACE_MS,
    ...blobs.flat(),
  ];
  const indexKey = inScriptThreadIndexKey(context);
  await context.durability.ready();
  const write = redisCall(context, { operation: "RedisSaver.put", write: true }, (client) =>
    callScript(client, "saverPut", { ...keys, threadIndex: indexKey }, args),
  );
  if (indexKey === undefined) await Promise.all([write, touchThread(context, threadId)]);
  else await write;
  await context.durability.afterWrite(
    keys.checkpoints,
    `RedisSaver.put of checkpoint ${JSON.stringify(checkpoint.id)}`,
  );
  return tupleConfig(threadId, ns, checkpoint.id);
}
