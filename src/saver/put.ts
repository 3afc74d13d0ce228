/**
 * put(): serialises the checkpoint (without its channel values), its metadata and the values of the channels in
 * newVersions, then stores them with one script (saverPut, or saverPutCompact when no TTL, fence, run id or retention
 * is involved): blobs, record (with its refs) and its index entry commit together, and the thread's TTL
 * restarts. On a standalone server the same script updates the cross-thread index;
 * on a cluster (the index lives in another slot) a second script does, sent concurrently. At the first checkpoint
 * of a thread or of a run, the thread registry is written beside it (threads/register.ts).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { type AuditOutbox, withAuditContext } from "../audit/outbox.js";
import type { RedisClient } from "../client.js";
import { InvalidInputError } from "../errors.js";
import { saverRunThreadsKey } from "../keys.js";
import { callScript, type ScriptArg, type ScriptArgs } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { fullBlob } from "./blob-delta.js";
import { requireClockOrder } from "./clock-order.js";
import {
  blobField,
  blobRef,
  checkpointField,
  encodeRefs,
  escapePart,
  frame,
  IN_HISTORY_MARKER,
  inHistoryRef,
  nullValueRef,
  runRefsLine,
} from "./codec.js";
import { readThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { tupleConfig } from "./decode.js";
import { deltaSnapshotCounters } from "./delta-counters.js";
import { dumpCheckpointValues, type ValueToDump } from "./dump-checkpoint-value.js";
import { isPlainJsonPlus } from "./json-revive.js";
import { encodeRecord } from "./record.js";
import { checkFenced, readRunFence, runFenceArgs } from "./run-fence.js";
import { dropThreadFromRuns, recordRunThread, runIdOf } from "./run-index.js";
import { inScriptThreadIndexKey, TRIM_GRACE_MS, touchThread } from "./thread-index.js";
import { liftedMetadata, putRegisters, registerQuietly } from "./threads/register.js";
import { requireStorableKeys, requireWellFormed, requireWellFormedInputs } from "./well-formed.js";

const PUT_SITE = { operation: "RedisSaver.put", write: true } as const;

/** What put() serialised, as the serializer's (type, bytes): for the offline local state (src/offline/saver). */
export interface PutDumps {
  /** The checkpoint without its channel values. */
  readonly checkpoint: [string, Uint8Array];
  readonly metadata: [string, Uint8Array];
  /** The values of the channels in newVersions that have one (a JSON null named on a refs line is not here). */
  readonly values: ReadonlyMap<string, [string, Uint8Array]>;
}

export async function putCheckpoint(
  context: SaverContext,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
  keepDumps?: (dumps: PutDumps) => void,
): Promise<RunnableConfig> {
  const { threadId, ns, checkpointId: parentId } = readThreadConfig(config, "RedisSaver.put");
  const fence = readRunFence(config, "RedisSaver.put");
  if (checkpoint === null || typeof checkpoint !== "object" || typeof checkpoint.id !== "string" || !checkpoint.id) {
    throw new InvalidInputError("RedisSaver.put: the checkpoint has no id (expected a non-empty string)");
  }
  requirePutInput(threadId, ns, checkpoint, newVersions, parentId);
  const threadKeys = context.threadKeys.get(threadId);
  const keys = threadKeys.thread;

  const { channel_values: channelValues, ...rest } = checkpoint;
  const inHistory = deltaChannelsInHistory(metadata, newVersions, channelValues);
  // A JSON null value is named on a refs line instead of stored (codec.ts nullValueRef): only where the blob would
  // be the plain serializer's "null" and readers of this release read the record (not with `compression: false`).
  const nullRefs = context.packRecords && isPlainJsonPlus(context.serde);
  const hasValue = (channel: string) =>
    Object.hasOwn(channelValues ?? {}, channel) && !(nullRefs && channelValues[channel] === null);
  const stored: Checkpoint = { ...rest, channel_values: {} };
  // Each value at once where the fast path takes it (nearly always): no Promise per value, each of which costs a put.
  const channels = Object.entries(newVersions ?? {});
  const toDump: ValueToDump[] = [
    {
      value: stored,
      describe: () => `RedisSaver.put: checkpoint ${JSON.stringify(checkpoint.id)}`,
      messageTokens: false,
    },
    { value: metadata, describe: () => "RedisSaver.put: the metadata", messageTokens: false },
  ];
  for (const [channel] of channels) {
    if (hasValue(channel)) {
      toDump.push({
        value: channelValues[channel],
        describe: () => `RedisSaver.put: the value of channel ${JSON.stringify(channel)}`,
        messageTokens: context.packRecords,
      });
    }
  }
  const dumping = dumpCheckpointValues(context.serde, toDump, context.maxValueBytes);
  const dumped = dumping instanceof Promise ? await dumping : dumping;
  const [checkpointType, checkpointBytes] = dumped[0] as [string, Uint8Array];
  const [metadataType, metadataBytes] = dumped[1] as [string, Uint8Array];
  let next = 2;
  const values: ChannelValue[] = [];
  const kept = keepDumps && new Map<string, [string, Uint8Array]>();
  for (const [channel, version] of channels) {
    if (hasValue(channel)) {
      const value = dumped[next++] as [string, Uint8Array];
      values.push({ channel, version, dumped: value });
      kept?.set(channel, value);
    }
    // In history: a refs line says so (below), and no blob is stored; only `compression: false` (records as earlier
    // releases read them) stores the marker blob. A null value named on a refs line (below) stores nothing.
    else if (!Object.hasOwn(channelValues ?? {}, channel))
      values.push({ channel, version, inHistory: !context.packRecords && inHistory(channel) });
  }
  if (kept)
    keepDumps?.({
      checkpoint: dumped[0] as [string, Uint8Array],
      metadata: dumped[1] as [string, Uint8Array],
      values: kept,
    });
  // With `compression: false` every version left to history has its marker, and every null value its blob, also one
  // this checkpoint kept from its parent: a writer without the option may have stored that version with only a refs
  // line (HSETNX stores it once).
  if (!context.packRecords) {
    const plain = isPlainJsonPlus(context.serde);
    for (const [channel, version] of Object.entries(checkpoint.channel_versions ?? {})) {
      if (Object.hasOwn(newVersions ?? {}, channel)) continue;
      if (inHistory(channel)) values.push({ channel, version, inHistory: true });
      else if (plain && channelValues?.[channel] === null) values.push({ channel, version, dumped: NULL_DUMP });
    }
  }
  const runId = runIdOf(config, metadata);
  const versions = Object.entries(checkpoint.channel_versions ?? {}).map(
    ([channel, version]) => [channel, String(version)] as const,
  );
  const refs = versions.map(([channel, version]) => blobRef(channel, version));
  if (context.packRecords) for (const [channel] of versions) if (inHistory(channel)) refs.push(inHistoryRef(channel));
  // Every channel whose value here is null, changed by this checkpoint or kept from its parent.
  if (nullRefs)
    for (const [channel] of versions) if (channelValues?.[channel] === null) refs.push(nullValueRef(channel));
  if (runId !== undefined) refs.push(runRefsLine(runId));
  const encoded = encodeRecord(
    encodeRefs(parentId, refs),
    [checkpointType, checkpointBytes, metadataType, metadataBytes],
    { pack: context.packRecords, maxValueBytes: context.maxValueBytes, checkpointId: checkpoint.id, versions },
  );
  const record = encoded instanceof Promise ? await encoded : encoded;

  const upgrade = context.legacyLayout.flag(threadId);
  const field = checkpointField(ns, checkpoint.id);
  // The common put (no TTL, lease fence, run id or retention) goes through saverPutCompact: the same writes with 3 to
  // 5 keys and 4 arguments instead of 10 and 10, each of which costs both sides on every call.
  const compact = context.ttlMs === 0 && fence === undefined && runId === undefined && context.retentionSpec === "";
  // A new thread's checkpoint index is a LIST, or the ZSET earlier releases read with `compression: false`; "l" when
  // this process has seen the thread's index be a LIST (its script then does not ask the key's TYPE).
  const indexFlag = context.packRecords ? context.legacyLayout.listFlag(threadId) : "z";
  const head: [number, string, Buffer, string, number, string, number, string, string, string] | undefined = compact
    ? undefined
    : [
        context.ttlMs,
        field,
        record,
        threadId,
        TRIM_GRACE_MS,
        ...runFenceArgs(fence),
        runId === undefined ? "" : escapePart(runId),
        context.retentionSpec,
        `${upgrade === "1" ? "u" : ""}${indexFlag}`,
      ];
  const indexKey = inScriptThreadIndexKey(context, threadKeys);
  const registers = putRegisters(ns, parentId, metadata);
  // The compact put refreshes the thread's cross-thread index entry about once a second (and at the thread's first
  // checkpoint, which its script sees): a registering put always, since the registry relies on it on a standalone
  // server. The full put keeps refreshing it every time (TTL trimming reads it).
  const touchDue = context.threadKeys.touchDue(threadId, Date.now()) || !compact || registers;
  const compactFlags = `${upgrade === "1" ? "u" : ""}${touchDue ? "t" : ""}${indexFlag}`;
  const runThreads =
    indexKey !== undefined && runId !== undefined ? saverRunThreadsKey(context.keyPrefix, runId) : undefined;
  const auditContext = context.audit
    ? checkpointAuditContext(context.audit, config, checkpoint, metadata, ns, parentId, newVersions)
    : undefined;
  if (!context.durability.isReady) await context.durability.ready();
  // On a cluster the run's record lives in another slot: written first, so it never misses a stored checkpoint.
  const recordedFirst =
    runId !== undefined && indexKey === undefined && (await recordRunThread(context, runId, threadId));
  const call = (client: RedisClient, args: ScriptArg[], outbox: string | undefined) => {
    const sent = outbox !== undefined && auditContext !== undefined ? withAuditContext(args, auditContext) : args;
    return head === undefined
      ? callScript(
          client,
          "saverPutCompact",
          {
            checkpoints: keys.checkpoints,
            blobs: keys.blobs,
            byNamespace: keys.byNamespace,
            threadIndex: indexKey,
            byId: upgrade === "1" ? keys.byId : undefined,
            outbox,
          },
          sent as ScriptArgs<"saverPutCompact">,
        )
      : callScript(
          client,
          "saverPut",
          { ...keys, threadIndex: indexKey, runThreads, outbox },
          sent as ScriptArgs<"saverPut">,
        );
  };
  const store = async (full: boolean) => {
    const encodings = values.map((value) => encodeChannelValue(context, threadId, ns, value, full));
    const blobs = encodings.some((blob) => blob instanceof Promise)
      ? await Promise.all(encodings)
      : (encodings as ChannelBlob[]);
    // The script's arguments in one array: the fixed ones, then the blob pairs. A cleared channel is not stored: a
    // missing blob reads as no value, as the cleared marker would.
    const args: ScriptArg[] = head === undefined ? [field, record, threadId, compactFlags] : [...head];
    for (const { field: blobField, blob, cleared } of blobs) if (!cleared) args.push(blobField, blob);
    try {
      const reply = await redisCall(context, PUT_SITE, (client) =>
        context.audit && auditContext
          ? context.audit.stream(keys.checkpoints).then((outbox) => call(client, args, outbox))
          : call(client, args, undefined),
      );
      // Written: the cache may now use these values as delta bases.
      if (reply.stored !== undefined) {
        for (const { commit } of blobs) commit?.();
        context.legacyLayout.done(threadId, reply.notListIndex !== true);
        // Retention removed the last checkpoints of these runs here: the checkpoint is stored, so a failure to
        // update their hashes (other slots) only leaves entries deleteForRuns reads in vain.
        if (reply.forgottenRuns) await dropThreadFromRuns(context, threadId, reply.forgottenRuns).catch(() => {});
        // The run's first checkpoint on this thread, which this process had recorded before (another process's
        // trim may have taken the thread out of the run's hash since): record it again.
        if (reply.freshRun && runId !== undefined && !recordedFirst)
          await recordRunThread(context, runId, threadId, true);
      }
      return reply;
    } catch (error) {
      // Unknown outcome: the next value of these channels must not lean on them.
      for (const { channel } of values) context.deltas?.forget(threadId, ns, channel);
      throw error;
    }
  };
  const write = async () => {
    const reply = await store(false);
    if (reply.missingBasePair === undefined) return reply;
    // A delta's base is gone (pruned, deleted or rewritten since this process cached it): store full copies.
    for (const { channel } of values) context.deltas?.forget(threadId, ns, channel);
    return store(true);
  };
  // The registry hears of a thread at its first checkpoint and at the start of each run (with the run's indexed
  // metadata); on a cluster that script also touches the cross-thread index, else a touch does.
  const register = registers
    ? registerQuietly(context, threadId, {
        metadata: liftedMetadata(context, config, metadata),
        touch: indexKey === undefined ? true : "byWrite",
      })
    : indexKey === undefined && touchDue
      ? touchThread(context, threadId)
      : undefined;
  const reply = register === undefined ? await write() : (await Promise.all([write(), register]))[0];
  checkFenced(reply, fence, "RedisSaver.put");
  // A cluster's compact put that skipped the touch stored its thread's only checkpoint: the thread was emptied since
  // this process last touched it, and list() may be about to drop its entry.
  if (reply.alone) await touchThread(context, threadId);
  if (context.durability.waits) {
    await context.durability.afterWrite(
      keys.checkpoints,
      `RedisSaver.put of checkpoint ${JSON.stringify(checkpoint.id)}`,
    );
  }
  return tupleConfig(threadId, ns, checkpoint.id);
}

/** What a checkpoint event records: which thread, checkpoint and step, written by whom and in which run. */
function checkpointAuditContext(
  audit: AuditOutbox,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  ns: string,
  parentId: string | undefined,
  newVersions: ChannelVersions,
): Record<string, unknown> {
  const meta = (metadata ?? {}) as Record<string, unknown>;
  const runMeta = (config.metadata ?? {}) as Record<string, unknown>;
  const configurable = (config.configurable ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  return {
    threadId: text(configurable.thread_id),
    checkpointNs: ns,
    checkpointId: checkpoint.id,
    parentId,
    step: typeof meta.step === "number" ? meta.step : undefined,
    source: text(meta.source),
    node: text(runMeta.langgraph_node) ?? text(meta.langgraph_node),
    runId: text(meta.run_id) ?? text(configurable.run_id) ?? text(config.runId),
    agent: audit.agentId ?? text(configurable.agent_id) ?? text(meta.agent_id),
    channels: Object.keys(newVersions ?? {}),
  };
}

/** What LangGraph's plain serializer writes for a null value. */
const NULL_DUMP: [string, Uint8Array] = ["json", Buffer.from("null", "utf8")];

interface ChannelValue {
  channel: string;
  version: string | number;
  /** Absent: the channel is in newVersions without a value (cleared, or a DeltaChannel left to the history). */
  dumped?: [string, Uint8Array];
  /** Without a value because it is a DeltaChannel rebuilt from the ancestors' writes, stored as the marker blob. */
  inHistory?: boolean;
}

/**
 * Which channels of this checkpoint have, at their version, a DeltaChannel value LangGraph leaves to the ancestors'
 * writes; retention keeps the ancestors such a value is rebuilt from. Its metadata's `counters_since_delta_snapshot`
 * counts every delta channel not snapshotted at this checkpoint as [updates, supersteps] since its snapshot:
 * - a channel in newVersions without a value and counted there (what earlier releases stored a marker blob for);
 * - a channel this checkpoint did not change and holds no value of, counted with updates since its snapshot: its
 *   version was written by such an update (each bumps the version, a snapshot too), so it is left to history as
 *   well. Counted with no update, its version is the snapshot's, a stored value. A count of another shape is taken
 *   as in history: that only keeps more ancestors.
 */
function deltaChannelsInHistory(
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
  channelValues: Checkpoint["channel_values"],
): (channel: string) => boolean {
  const counters = deltaSnapshotCounters(metadata);
  if (counters === undefined) return () => false;
  return (channel) => {
    if (!Object.hasOwn(counters, channel) || Object.hasOwn(channelValues ?? {}, channel)) return false;
    if (Object.hasOwn(newVersions ?? {}, channel)) return true;
    const count = counters[channel];
    return !(Array.isArray(count) && count[0] === 0);
  };
}

interface ChannelBlob {
  field: string;
  blob: Buffer;
  commit?: () => void;
  cleared?: boolean;
}

/**
 * The blob field and stored blob of one channel value: delta-encoded, compressed or as it is (blob-delta.ts). A
 * Promise only with compression on.
 */
function encodeChannelValue(
  context: SaverContext,
  threadId: string,
  ns: string,
  { channel, version, dumped, inHistory }: ChannelValue,
  full: boolean,
): ChannelBlob | Promise<ChannelBlob> {
  const field = blobField(ns, channel, version);
  if (dumped === undefined) {
    if (inHistory) return { field, blob: IN_HISTORY_MARKER };
    return { field, blob: frame([]), cleared: true };
  }
  const [type, bytes] = dumped;
  const encoded =
    context.deltas === undefined
      ? fullBlob(context.compression, type, bytes)
      : context.deltas.encode(context.compression, { threadId, ns, channel }, version, type, bytes, full);
  if (encoded instanceof Promise) return encoded.then((value) => withField(field, value));
  return withField(field, encoded);
}

function withField(field: string, encoded: Buffer | { blob: Buffer; commit?: () => void }): ChannelBlob {
  return Buffer.isBuffer(encoded) ? { field, blob: encoded } : { field, ...encoded };
}

/**
 * What put() refuses before anything is written or journaled (the offline journal asks the same): ids and names that
 * cannot be stored exactly, and `__proto__` keys in the checkpoint's maps (see requireStorableKeys).
 */
export function requirePutInput(
  threadId: string,
  ns: string,
  checkpoint: Checkpoint,
  newVersions: ChannelVersions,
  parentId: string | undefined,
) {
  const operation = "RedisSaver.put";
  requireWellFormed({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id }, operation);
  requireClockOrder(threadId, ns, checkpoint.id, parentId);
  requireWellFormedInputs("channel name", Object.keys(newVersions ?? {}), operation);
  requireWellFormedInputs("channel name", Object.keys(checkpoint.channel_versions ?? {}), operation);
  // A version is stored as text in the refs: one that UTF-8 cannot hold would read back as another version.
  for (const version of Object.values(checkpoint.channel_versions ?? {})) {
    if (typeof version === "string") requireWellFormedInputs("channel version", [version], operation);
  }
  for (const map of [checkpoint.channel_values, checkpoint.channel_versions, newVersions]) {
    if (map !== null && typeof map === "object") requireStorableKeys("channel", Object.keys(map), operation);
  }
  const seen = checkpoint.versions_seen;
  if (seen === null || typeof seen !== "object") return;
  requireStorableKeys("node in versions_seen", Object.keys(seen), operation);
  for (const versions of Object.values(seen)) {
    if (versions !== null && typeof versions === "object") {
      requireStorableKeys("channel in versions_seen", Object.keys(versions), operation);
    }
  }
}
