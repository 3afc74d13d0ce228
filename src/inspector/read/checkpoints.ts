/**
 * What the inspector shows of checkpoints, read through RedisSaver.list/getTuple (so it follows however the saver
 * stores them) plus HSTRLEN of the records those calls read, for their size.
 */
import type { CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { saverThreadKeys } from "../../keys.js";
import { blobField, checkpointField } from "../../saver/codec.js";
import type { RedisSaver } from "../../saver/redis-saver.js";

export interface CheckpointInfo {
  readonly checkpointId: string;
  readonly parentId: string | null;
  /** Checkpoint namespace ("" for the root graph, "node:task" inside a subgraph). */
  readonly ns: string;
  readonly step: number | null;
  /** "input", "loop", "update" or "fork". */
  readonly source: string | null;
  /** When LangGraph created the checkpoint (its `ts`), ms since epoch. */
  readonly timeMs: number;
  /** The nodes whose step produced this checkpoint (their versions_seen moved). */
  readonly writers: readonly string[];
  /** Channels whose value this checkpoint changed (branch:to:* triggers left out). */
  readonly channels: readonly string[];
  /** Writes stored against this checkpoint by the next step's tasks: task id, node (when known), channel. */
  readonly pendingWrites: readonly { readonly taskId: string; readonly channel: string }[];
  /** Nodes the next step would run, estimated from the trigger channels (exact only with the graph). */
  readonly next: readonly string[];
  /** Bytes of the checkpoint's record and the channel values it introduced. */
  readonly bytes: number;
  /** Extra metadata fields (anything besides source, step, parents). */
  readonly metadata: Record<string, unknown>;
}

type Versions = Record<string, number | string>;

const greater = (a: number | string | undefined, b: number | string | undefined): boolean =>
  a !== undefined && (b === undefined || Number(a) > Number(b));

/** Nodes whose versions_seen differ between a checkpoint and its parent: they ran in the step that made it. */
export function writersOf(tuple: CheckpointTuple, parent: CheckpointTuple | undefined): string[] {
  const seen = tuple.checkpoint.versions_seen as Record<string, Versions>;
  const before = (parent?.checkpoint.versions_seen ?? {}) as Record<string, Versions>;
  return (
    Object.keys(seen)
      // LangGraph's own bookkeeping entries (input, interrupts) are not nodes.
      .filter((node) => node !== "__input__" && node !== "__interrupt__")
      .filter((node) => {
        const now = seen[node] ?? {};
        const was = before[node] ?? {};
        return Object.keys(now).some((channel) => String(now[channel]) !== String(was[channel]));
      })
      .sort()
  );
}

function changedChannels(tuple: CheckpointTuple, parent: CheckpointTuple | undefined): string[] {
  const updated = (tuple.checkpoint as { updated_channels?: string[] }).updated_channels;
  const now = tuple.checkpoint.channel_versions as Versions;
  const was = (parent?.checkpoint.channel_versions ?? {}) as Versions;
  const names = updated ?? Object.keys(now).filter((channel) => String(now[channel]) !== String(was[channel]));
  return names.filter((channel) => !channel.startsWith("branch:to:") && channel !== "__start__").sort();
}

/**
 * Nodes whose `branch:to:<node>` (or `__start__`) trigger holds a value at a version the node has not seen. A
 * consumed trigger gets a new version too, but no value: channel_values only holds channels that have one.
 */
export function nextNodes(tuple: CheckpointTuple): string[] {
  const versions = tuple.checkpoint.channel_versions as Versions;
  const seen = tuple.checkpoint.versions_seen as Record<string, Versions>;
  const values = tuple.checkpoint.channel_values as Record<string, unknown>;
  const next: string[] = [];
  for (const channel of Object.keys(versions)) {
    const node = channel === "__start__" ? "__start__" : channel.startsWith("branch:to:") ? channel.slice(10) : "";
    if (node === "" || !(channel in values)) continue;
    if (greater(versions[channel], seen[node]?.[channel])) next.push(node);
  }
  return next.sort();
}

function timeOf(tuple: CheckpointTuple): number {
  const ms = Date.parse(tuple.checkpoint.ts);
  return Number.isFinite(ms) ? ms : 0;
}

/** The thread's checkpoints (every namespace), newest first, at most `limit`. */
export async function readHistory(
  saver: RedisSaver,
  threadId: string,
  options: { limit: number; ns?: string },
): Promise<CheckpointInfo[]> {
  const tuples: CheckpointTuple[] = [];
  const configurable: Record<string, string> = { thread_id: threadId };
  if (options.ns !== undefined) configurable.checkpoint_ns = options.ns;
  for await (const tuple of saver.list({ configurable }, { limit: options.limit })) tuples.push(tuple);
  const byId = new Map(tuples.map((t) => [`${t.config.configurable?.checkpoint_ns ?? ""}\0${t.checkpoint.id}`, t]));
  const parents = await Promise.all(
    tuples.map(async (tuple) => {
      const parentConfig = tuple.parentConfig;
      const parentId = parentConfig?.configurable?.checkpoint_id as string | undefined;
      if (parentId === undefined) return undefined;
      const ns = String(tuple.config.configurable?.checkpoint_ns ?? "");
      return byId.get(`${ns}\0${parentId}`) ?? (await saver.getTuple(parentConfig as never));
    }),
  );
  const sizes = await recordSizes(saver, threadId, tuples, parents);
  return tuples.map((tuple, i) => describeCheckpoint(tuple, parents[i], sizes[i] ?? 0));
}

export function describeCheckpoint(
  tuple: CheckpointTuple,
  parent: CheckpointTuple | undefined,
  bytes: number,
): CheckpointInfo {
  const { source, step, parents: _parents, ...rest } = (tuple.metadata ?? {}) as Record<string, unknown>;
  return {
    checkpointId: tuple.checkpoint.id,
    parentId: (tuple.parentConfig?.configurable?.checkpoint_id as string | undefined) ?? null,
    ns: String(tuple.config.configurable?.checkpoint_ns ?? ""),
    step: typeof step === "number" ? step : null,
    source: typeof source === "string" ? source : null,
    timeMs: timeOf(tuple),
    writers: writersOf(tuple, parent),
    channels: changedChannels(tuple, parent),
    pendingWrites: (tuple.pendingWrites ?? []).map(([taskId, channel]) => ({ taskId, channel })),
    next: nextNodes(tuple),
    bytes,
    metadata: rest,
  };
}

/**
 * Bytes of each checkpoint's stored record (with the pending writes it carries, if it does) plus the values of the
 * channels whose version it introduced (a value is stored once per channel version, and shared by later checkpoints
 * that did not change it).
 */
export async function recordSizes(
  saver: RedisSaver,
  threadId: string,
  tuples: readonly CheckpointTuple[],
  parents: readonly (CheckpointTuple | undefined)[],
): Promise<number[]> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const client = saver.client;
  return Promise.all(
    tuples.map(async (tuple, i) => {
      const ns = String(tuple.config.configurable?.checkpoint_ns ?? "");
      const now = tuple.checkpoint.channel_versions as Versions;
      const was = (parents[i]?.checkpoint.channel_versions ?? {}) as Versions;
      const fresh = Object.keys(now).filter((channel) => String(now[channel]) !== String(was[channel]));
      const lengths = await Promise.all([
        client.hstrlen(keys.checkpoints, checkpointField(ns, tuple.checkpoint.id)),
        ...fresh.map((channel) => client.hstrlen(keys.blobs, blobField(ns, channel, now[channel] ?? ""))),
      ]);
      return lengths.reduce((sum, n) => sum + Number(n), 0);
    }),
  );
}
