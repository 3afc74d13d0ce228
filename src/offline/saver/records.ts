/**
 * The saver's journal records: a put (config, checkpoint, metadata, newVersions) or a putWrites (config, writes,
 * taskId, taskPath), serialised whole with the saver's serializer (so an encrypting serializer encrypts the journal
 * too). The header names the thread, namespace and checkpoint, so replay can group records without decoding them.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type {
  ChannelVersions,
  Checkpoint,
  CheckpointMetadata,
  PendingWrite,
  SerializerProtocol,
} from "@langchain/langgraph-checkpoint";
import { OfflineJournalError } from "../../errors.js";
import { RUN_FENCE_KEY } from "../../saver/run-fence.js";
import type { JournalRecord, RecordHeader } from "../journal.js";

export interface PutRecord {
  readonly kind: "put";
  readonly threadId: string;
  readonly ns: string;
  readonly checkpointId: string;
  readonly parentId: string | undefined;
  readonly config: RunnableConfig;
  readonly checkpoint: Checkpoint;
  readonly metadata: CheckpointMetadata;
  readonly newVersions: ChannelVersions;
}

export interface WritesRecord {
  readonly kind: "writes";
  readonly threadId: string;
  readonly ns: string;
  readonly checkpointId: string;
  readonly config: RunnableConfig;
  readonly writes: PendingWrite[];
  readonly taskId: string;
  readonly taskPath: string;
}

export type SaverRecord = PutRecord | WritesRecord;

/** What of a config a replayed write needs: the ids, the run fence, run and agent ids, the node name. */
export function storedConfig(config: RunnableConfig): RunnableConfig {
  const configurable: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config.configurable ?? {})) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") configurable[key] = value;
    else if (key === RUN_FENCE_KEY) configurable[key] = value;
  }
  const node = config.metadata?.langgraph_node;
  return typeof node === "string" ? { configurable, metadata: { langgraph_node: node } } : { configurable };
}

export async function encodeSaverRecord(
  serde: SerializerProtocol,
  record: SaverRecord,
): Promise<{ header: RecordHeader; body: Buffer }> {
  const payload =
    record.kind === "put"
      ? [record.config, record.checkpoint, record.metadata, record.newVersions]
      : [record.config, record.writes, record.taskId, record.taskPath];
  const [type, bytes] = await serde.dumpsTyped(payload);
  const header: RecordHeader = {
    k: record.kind,
    t: record.threadId,
    ns: record.ns,
    id: record.checkpointId,
    type,
  };
  if (record.kind === "put" && record.parentId !== undefined) header.parent = record.parentId;
  return { header, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The thread, namespace and checkpoint a record is about, from its header alone. */
export function recordScope(record: JournalRecord): {
  kind: string;
  threadId: string;
  ns: string;
  checkpointId: string;
} {
  const { k, t, ns, id } = record.header;
  return { kind: String(k), threadId: String(t), ns: String(ns), checkpointId: String(id) };
}

export async function decodeSaverRecord(serde: SerializerProtocol, record: JournalRecord): Promise<SaverRecord> {
  const { k, t, ns, id, type, parent } = record.header;
  if (typeof t !== "string" || typeof ns !== "string" || typeof id !== "string" || typeof type !== "string") {
    throw new OfflineJournalError(`Journal record ${record.seq} has a malformed header`);
  }
  const payload = (await serde.loadsTyped(type, new Uint8Array(record.body))) as unknown[];
  if (!Array.isArray(payload) || payload.length !== 4) {
    throw new OfflineJournalError(`Journal record ${record.seq} does not hold a saver write`);
  }
  if (k === "put") {
    return {
      kind: "put",
      threadId: t,
      ns,
      checkpointId: id,
      parentId: typeof parent === "string" ? parent : undefined,
      config: payload[0] as RunnableConfig,
      checkpoint: payload[1] as Checkpoint,
      metadata: payload[2] as CheckpointMetadata,
      newVersions: payload[3] as ChannelVersions,
    };
  }
  if (k === "writes") {
    return {
      kind: "writes",
      threadId: t,
      ns,
      checkpointId: id,
      config: payload[0] as RunnableConfig,
      writes: payload[1] as PendingWrite[],
      taskId: String(payload[2]),
      taskPath: String(payload[3] ?? ""),
    };
  }
  throw new OfflineJournalError(`Journal record ${record.seq} is of an unknown kind ${JSON.stringify(k)}`);
}
