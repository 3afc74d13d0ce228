/**
 * Turns what the read script returns into CheckpointTuples: unframes the bytes, deserialises with the saver's
 * serde, rebuilds channel_values from the blobs the checkpoint's versions point at, and orders pending writes by
 * writesSortKey. Anything undecodable becomes a CorruptCheckpointError naming the key it came from.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  maxChannelVersion,
  TASKS,
  type WritesSortKey,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { decompress } from "../compression.js";
import { CorruptCheckpointError, EncryptionError, encryptionErrorAt } from "../errors.js";
import type { SaverThreadKeys } from "../keys.js";
import { resolveBlob } from "./blob-delta.js";
import {
  asBuffer,
  blobField,
  decodeCheckpointField,
  decodeRefs,
  describeSource,
  FrameFormat,
  type FrameSource,
  isInHistoryMarker,
  unframe,
  unframeAs,
} from "./codec.js";
import type { SaverContext } from "./context.js";
import { requireConsistentCheckpoint } from "./integrity.js";
import { isPlainJsonPlus, loadsJson } from "./json-revive.js";
import { expand, isMessageTokensType } from "./message-tokens.js";
import { exactRange, type RawCheckpoint, readCheckpoints } from "./read.js";
import { decodeRecord } from "./record.js";

export interface DecodedCheckpoint {
  tuple: CheckpointTuple;
  ns: string;
  parentId: string | undefined;
}

export interface DecodedWrite {
  sortKey: WritesSortKey;
  write: CheckpointPendingWrite;
}

export function tupleConfig(threadId: string, ns: string, checkpointId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId } };
}

export async function loadValue(
  context: SaverContext,
  type: Buffer,
  bytes: Buffer,
  source: FrameSource,
): Promise<unknown> {
  try {
    let text = type.toString("utf8");
    let data: Uint8Array | string = bytes;
    // Message tokens (message-tokens.ts) expand to the serializer's JSON text, whatever the serde is now.
    if (isMessageTokensType(text)) {
      data = expand(text, bytes, context.maxValueBytes);
      text = "json";
    }
    // LangGraph's own serializer: the same result from a walk that costs linear time (json-revive.ts).
    return await (isPlainJsonPlus(context.serde)
      ? loadsJson(context.serde, text, data)
      : context.serde.loadsTyped(text, data));
  } catch (error) {
    if (error instanceof EncryptionError) throw encryptionErrorAt(error, source.key);
    throw new CorruptCheckpointError(
      source.key,
      `${describeSource(source)} cannot be deserialised (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

export async function decodeCheckpoint(
  context: SaverContext,
  threadId: string,
  raw: RawCheckpoint,
): Promise<DecodedCheckpoint> {
  const keys = context.threadKeys.get(threadId).thread;
  const { ns, checkpointId } = decodeCheckpointField(raw.field.toString("utf8"));
  // Labels only appear in errors: built on failure, not on every read.
  const label = () => `checkpoint ${JSON.stringify(checkpointId)} (namespace ${JSON.stringify(ns)})`;
  const recordSource = { key: keys.checkpoints, what: label };
  const [refsText, checkpointType, checkpointBytes, metadataType, metadataBytes] = await decodeRecord(
    raw.record,
    recordSource,
    context.maxValueBytes,
    checkpointId,
  );
  const refs = decodeRefs(refsText.toString("utf8"));
  const [checkpoint, metadata, channelValues, pendingWrites] = await Promise.all([
    loadValue(context, checkpointType, checkpointBytes, recordSource) as Promise<Checkpoint>,
    loadValue(context, metadataType, metadataBytes, {
      key: keys.checkpoints,
      what: () => `metadata of ${label()}`,
    }) as Promise<CheckpointMetadata | undefined>,
    decodeChannelValues(context, keys, ns, refs.channels, raw),
    decodeWrites(context, keys, label, raw.writeValues),
  ]);
  if (checkpoint === null || typeof checkpoint !== "object") {
    throw new CorruptCheckpointError(keys.checkpoints, `${label()} is not a checkpoint object`);
  }
  requireConsistentCheckpoint(keys, label, checkpointId, checkpoint, refs.channels);
  checkpoint.channel_values = channelValues;
  if (checkpoint.v < 4 && refs.parentId !== undefined) {
    await migratePendingSends(context, threadId, ns, refs.parentId, checkpoint);
  }
  const tuple: CheckpointTuple = {
    config: tupleConfig(threadId, ns, checkpointId),
    checkpoint,
    metadata,
    pendingWrites,
  };
  if (refs.parentId !== undefined) tuple.parentConfig = tupleConfig(threadId, ns, refs.parentId);
  return { tuple, ns, parentId: refs.parentId };
}

async function decodeChannelValues(
  context: SaverContext,
  keys: SaverThreadKeys,
  ns: string,
  channels: readonly [string, string][],
  { blobValues, bases, held }: RawCheckpoint,
): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  await Promise.all(
    channels.map(async ([channel, version], i) => {
      const blob = blobValues[i];
      // Missing: no put stored this (channel, version) (the checkpoint was put with it outside newVersions).
      if (blob === null || blob === undefined) return;
      const source = {
        key: keys.blobs,
        what: () => `channel ${JSON.stringify(channel)} version ${version} (namespace ${JSON.stringify(ns)})`,
      };
      // A DeltaChannel value left to the ancestors' writes: absent here, like a cleared channel.
      if (isInHistoryMarker(blob)) return;
      if (blob.length === 0 && held !== undefined) {
        // Not sent: this saver wrote it last and holds its bytes (the script checked the stored length).
        const mine = held.get(blobField(ns, channel, version));
        if (mine !== undefined) {
          values[channel] = await loadValue(context, Buffer.from(mine.type, "utf8"), asBuffer(mine.bytes), source);
          return;
        }
      }
      if (blob[0] === FrameFormat.PLAIN) {
        const parts = unframe(blob, source, 0, 2);
        // No parts: the channel was listed in newVersions but had no value (it was cleared).
        if (parts.length === 0) return;
        values[channel] = await loadValue(context, parts[0] as Buffer, parts[1] as Buffer, source);
        return;
      }
      // Compressed or delta-encoded (blob-delta.ts).
      const resolved = await resolveBlob(blobField(ns, channel, version), blob, bases, context.maxValueBytes, source);
      if (resolved === "cleared") return;
      values[channel] = await loadValue(context, Buffer.from(resolved.type, "utf8"), resolved.bytes, source);
    }),
  );
  // Keep the channels' stored order regardless of which deserialisation finished first.
  const ordered: Record<string, unknown> = {};
  for (const [channel] of channels) if (channel in values) ordered[channel] = values[channel];
  return ordered;
}

export async function decodeWrites(
  context: SaverContext,
  keys: SaverThreadKeys,
  label: () => string,
  writeValues: readonly (Buffer | null)[],
): Promise<CheckpointPendingWrite[]> {
  const source = { key: keys.writes, what: () => `a pending write of ${label()}` };
  const decoded = await Promise.all(
    writeValues
      .filter((value): value is Buffer => value !== null && value !== undefined)
      .map((value) => decodeWrite(context, source, value)),
  );
  decoded.sort((a, b) => compareWritesSortKeys(a.sortKey, b.sortKey));
  return decoded.map((d) => d.write);
}

/** One framed pending write (plain or compressed) and the key it sorts by among its checkpoint's writes. */
export async function decodeWrite(context: SaverContext, source: FrameSource, value: Buffer): Promise<DecodedWrite> {
  const { format, parts } = unframeAs(value, source, [FrameFormat.PLAIN, FrameFormat.DEFLATED], [6]);
  const [taskId, channel, type, stored, taskPath, idx] = parts as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const bytes =
    format === FrameFormat.DEFLATED
      ? await decompress(
          stored,
          context.maxValueBytes,
          source.key,
          () => describeSource(source),
          CorruptCheckpointError,
        )
      : stored;
  const task = taskId.toString("utf8");
  return {
    sortKey: writesSortKey(taskPath.toString("utf8"), task, Number(idx.toString("utf8"))),
    write: [task, channel.toString("utf8"), await loadValue(context, type, bytes, source)],
  };
}

/**
 * Checkpoints older than format 4 kept pending sends in their parent's TASKS writes; LangGraph expects them as the
 * TASKS channel value (as MemorySaver migrates them). Legacy data only: costs one more round trip.
 */
async function migratePendingSends(
  context: SaverContext,
  threadId: string,
  ns: string,
  parentId: string,
  checkpoint: Checkpoint,
): Promise<void> {
  const { checkpoints } = await readCheckpoints(context, threadId, exactRange(ns, parentId));
  const parent = checkpoints[0];
  const keys = context.threadKeys.get(threadId).thread;
  const writes = parent
    ? await decodeWrites(context, keys, () => `checkpoint ${JSON.stringify(parentId)}`, parent.writeValues)
    : [];
  checkpoint.channel_values[TASKS] = writes.filter(([, channel]) => channel === TASKS).map(([, , value]) => value);
  const versions = Object.values(checkpoint.channel_versions);
  checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : 1;
}
