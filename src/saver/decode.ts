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
import { decompress, decompressSync } from "../compression.js";
import { sealedValueHint } from "../encryption/serializer.js";
import { CorruptCheckpointError, EncryptionError, encryptionErrorAt } from "../errors.js";
import type { SaverThreadKeys } from "../keys.js";
import { loadTogetherNow } from "./batch-load.js";
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
} from "./codec.js";
import type { SaverContext } from "./context.js";
import { requireConsistentCheckpoint } from "./integrity.js";
import { isPlainJsonPlus, LOAD_LATER, loadsJson, loadsJsonNow } from "./json-revive.js";
import { expand, isMessageTokensType } from "./message-tokens.js";
import { exactRange, type RawCheckpoint, readCheckpoints } from "./read.js";
import { decodeRecord } from "./record.js";
import { unframeWrite } from "./write-frame.js";

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

/** A stored value deserialised with the saver's serde (LangGraph's own: json-revive.ts, one parse). */
export async function loadValue(
  context: SaverContext,
  type: Buffer,
  bytes: Buffer,
  source: FrameSource,
): Promise<unknown> {
  try {
    const [text, data] = serdeInput(context, type, bytes);
    return await (isPlainJsonPlus(context.serde)
      ? loadsJson(context.serde, text, data)
      : context.serde.loadsTyped(text, data));
  } catch (error) {
    throw loadError(error, source, type, bytes);
  }
}

/**
 * The value, when LangGraph's own serializer would give it without awaiting anything (loadsJsonNow: JSON and
 * messages); LOAD_LATER otherwise (another serde, another type, a record that needs load()). Reads that decode many
 * small values (a DeltaChannel history's writes) then create no promise per value.
 */
export function loadValueNow(context: SaverContext, type: Buffer, bytes: Buffer, source: FrameSource): unknown {
  if (!isPlainJsonPlus(context.serde)) return LOAD_LATER;
  try {
    const [text, data] = serdeInput(context, type, bytes);
    return loadsJsonNow(text, data);
  } catch (error) {
    throw loadError(error, source, type, bytes);
  }
}

/** The type and bytes the serde reads: message tokens (message-tokens.ts) expand to the serializer's JSON text. */
function serdeInput(context: SaverContext, type: Buffer, bytes: Buffer): [string, Uint8Array | string] {
  const text = type.toString("utf8");
  return isMessageTokensType(text) ? ["json", expand(text, bytes, context.maxValueBytes)] : [text, bytes];
}

function loadError(error: unknown, source: FrameSource, type: Buffer, bytes: Buffer): Error {
  if (error instanceof EncryptionError) return encryptionErrorAt(error, source.key);
  const reason =
    sealedValueHint(type.toString("utf8"), bytes) ?? (error instanceof Error ? error.message : String(error));
  return new CorruptCheckpointError(source.key, `${describeSource(source)} cannot be deserialised (${reason})`, {
    cause: error,
  });
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
    decodeChannelValues(context, keys, ns, refs.channels, raw, refs.nulls),
    decodeWrites(context, keys, label, raw.writeValues, raw.bundleWritesInRecord),
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
  // A channel with a version and no value (a DeltaChannel step's) makes LangGraph load its history next: the epoch
  // read with the checkpoint lets that load use a held history without a check of its own (delta-history-cache.ts).
  if (raw.epoch !== undefined && refs.channels.some(([channel]) => !Object.hasOwn(channelValues, channel))) {
    context.deltaHistory?.observe(threadId, raw.field.toString("utf8"), raw.epoch);
  }
  return { tuple, ns, parentId: refs.parentId };
}

async function decodeChannelValues(
  context: SaverContext,
  keys: SaverThreadKeys,
  ns: string,
  channels: readonly [string, string][],
  { blobValues, bases, held }: RawCheckpoint,
  nulls: ReadonlySet<string> | undefined,
): Promise<Record<string, unknown>> {
  // The channels with a value (index into channels) and its deserialisation, in the channels' stored order.
  const found: number[] = [];
  const loading: unknown[] = [];
  for (let i = 0; i < channels.length; i++) {
    // JSON null, named by a refs line (codec.ts nullValueRef): what its blob, stored or not, deserialises to.
    if (nulls?.has((channels[i] as [string, string])[0])) {
      found.push(i);
      loading.push(null);
      continue;
    }
    const blob = blobValues[i];
    // Missing: no put stored this (channel, version) (the checkpoint was put with it outside newVersions).
    // A DeltaChannel value left to the ancestors' writes (its refs line says so, and no blob is stored; or the
    // marker blob of earlier releases and `compression: false`): absent here, like a cleared channel.
    if (blob === null || blob === undefined || isInHistoryMarker(blob)) continue;
    const [channel, version] = channels[i] as [string, string];
    const source = {
      key: keys.blobs,
      what: () => `channel ${JSON.stringify(channel)} version ${version} (namespace ${JSON.stringify(ns)})`,
    };
    // Not sent: this saver wrote it last and holds its bytes (the script checked the stored length).
    const mine = blob.length === 0 && held !== undefined ? held.get(blobField(ns, channel, version)) : undefined;
    if (mine !== undefined) {
      found.push(i);
      loading.push(loadValue(context, Buffer.from(mine.type, "utf8"), asBuffer(mine.bytes), source));
    } else if (blob[0] === FrameFormat.PLAIN) {
      const parts = unframe(blob, source, 0, 2);
      // No parts: the channel was listed in newVersions but had no value (it was cleared).
      if (parts.length === 0) continue;
      found.push(i);
      loading.push(loadValue(context, parts[0] as Buffer, parts[1] as Buffer, source));
    } else {
      // Compressed or delta-encoded (blob-delta.ts).
      found.push(i);
      loading.push(
        resolveBlob(blobField(ns, channel, version), blob, bases, context.maxValueBytes, source).then((resolved) =>
          resolved === "cleared"
            ? CLEARED
            : loadValue(context, Buffer.from(resolved.type, "utf8"), resolved.bytes, source),
        ),
      );
    }
  }
  const loaded = await Promise.all(loading);
  const values: Record<string, unknown> = {};
  for (let k = 0; k < found.length; k++) {
    if (loaded[k] !== CLEARED) values[(channels[found[k] as number] as [string, string])[0]] = loaded[k];
  }
  return values;
}

/** A compressed or delta-encoded blob that holds no value (a cleared channel). */
const CLEARED = Symbol("cleared");

export async function decodeWrites(
  context: SaverContext,
  keys: SaverThreadKeys,
  label: () => string,
  writeValues: readonly (Buffer | null)[],
  inRecord = 0,
): Promise<CheckpointPendingWrite[]> {
  if (writeValues.length === 0) return [];
  const source = { key: keys.writes, what: () => `a pending write of ${label()}` };
  const present = (value: Buffer | null | undefined): value is Buffer => value !== null && value !== undefined;
  // The first `inRecord` writes come from the bundle the checkpoint's record carries: errors name that key.
  const decoded =
    inRecord === 0
      ? await decodeWriteList(context, source, writeValues.filter(present))
      : (
          await Promise.all([
            decodeWriteList(
              context,
              { key: keys.checkpoints, what: () => `a pending write in the record of ${label()}` },
              writeValues.slice(0, inRecord).filter(present),
            ),
            decodeWriteList(context, source, writeValues.slice(inRecord).filter(present)),
          ])
        ).flat();
  if (!inSortKeyOrder(decoded)) decoded.sort((a, b) => compareWritesSortKeys(a.sortKey, b.sortKey));
  return decoded.map((d) => d.write);
}

/**
 * Compressed writes up to this size inflate in the calling thread (every write a bundle holds is smaller): the
 * thread pool's hand-off costs more than inflating a few KiB, and a history holds many such writes.
 */
const INFLATE_SYNC_MAX_BYTES = 4 * 1024;

/**
 * Framed pending writes (plain or compressed), decoded[i] for values[i], each with the key it sorts by among its
 * checkpoint's writes. The frames are read first, then every value deserialises at once.
 */
export async function decodeWriteList(
  context: SaverContext,
  source: FrameSource,
  values: readonly Buffer[],
): Promise<DecodedWrite[]> {
  const frames = values.map((value) => unframeWrite(value, source));
  const what = () => describeSource(source);
  // Most writes decode synchronously (loadValueNow); only the others are awaited, together.
  const loaded: unknown[] = [];
  const later: Promise<void>[] = [];
  const decodeOne = (frame: (typeof frames)[number], i: number): void => {
    const { stored } = frame;
    if (frame.deflated && stored.length > INFLATE_SYNC_MAX_BYTES) {
      later.push(
        decompress(stored, context.maxValueBytes, source.key, what, CorruptCheckpointError)
          .then((bytes) => loadValue(context, frame.type, bytes, source))
          .then((value) => {
            loaded[i] = value;
          }),
      );
      return;
    }
    const bytes = frame.deflated
      ? decompressSync(stored, context.maxValueBytes, source.key, what, CorruptCheckpointError)
      : stored;
    const now = loadValueNow(context, frame.type, bytes, source);
    if (now !== LOAD_LATER) loaded[i] = now;
    else {
      later.push(
        loadValue(context, frame.type, bytes, source).then((value) => {
          loaded[i] = value;
        }),
      );
    }
  };
  // Small JSON values (most writes: a message each) parse together; the others go one by one.
  const together = loadTogetherNow(context, frames);
  try {
    frames.forEach((frame, i) => {
      if (together.has(i)) loaded[i] = together.get(i);
      else decodeOne(frame, i);
    });
  } catch (error) {
    // A write that fails to decode at once ends the call: the ones still decoding must not reject unobserved.
    for (const pending of later) pending.catch(() => {});
    throw error;
  }
  if (later.length > 0) await Promise.all(later);
  return frames.map(({ taskId, channel, taskPath, idx }, i) => ({
    sortKey: writesSortKey(taskPath, taskId, idx),
    write: [taskId, channel, loaded[i]],
  }));
}

/** Whether writes already follow writesSortKey (a stable sort leaves such a list as it is, so no sort is needed). */
export function inSortKeyOrder(writes: readonly DecodedWrite[]): boolean {
  for (let i = 1; i < writes.length; i++) {
    if (compareWritesSortKeys((writes[i - 1] as DecodedWrite).sortKey, (writes[i] as DecodedWrite).sortKey) > 0) {
      return false;
    }
  }
  return true;
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
    ? await decodeWrites(
        context,
        keys,
        () => `checkpoint ${JSON.stringify(parentId)}`,
        parent.writeValues,
        parent.bundleWritesInRecord,
      )
    : [];
  checkpoint.channel_values[TASKS] = writes.filter(([, channel]) => channel === TASKS).map(([, , value]) => value);
  const versions = Object.values(checkpoint.channel_versions);
  checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : 1;
}
