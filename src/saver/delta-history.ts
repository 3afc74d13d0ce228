/**
 * getDeltaChannelHistory(): what a DeltaChannel needs to rebuild its value, read server-side. One script
 * (saverDeltaHistory) walks the parent chain of the checkpoint inside the thread's slot and returns only the
 * requested channels' writes and their seed blobs; a long chain is read in pages of bounded work, each page one
 * round trip, so loading a thread costs one command per page instead of one per ancestor.
 *
 * The result is what BaseCheckpointSaver's default walk (and MemorySaver) return: per channel, the on-path writes
 * oldest to newest (one checkpoint's writes in writesSortKey order, including those stored on the ancestor that
 * holds the seed) and the seed, the value stored at the nearest ancestor that has one (absent when none does).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type CheckpointPendingWrite,
  compareWritesSortKeys,
  type DeltaChannelHistory,
} from "@langchain/langgraph-checkpoint";
import { CorruptCheckpointError, InvalidInputError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { resolveBlob } from "./blob-delta.js";
import { escapePart } from "./codec.js";
import { readThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { type DecodedWrite, decodeWrite, loadValue } from "./decode.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";

/** Most ancestors one script call visits: bounds the time one call holds the server. */
export const DELTA_HISTORY_PAGE_CHECKPOINTS = 500;
/** A page also ends once it has gathered this many bytes (at least one ancestor per page). */
export const DELTA_HISTORY_PAGE_BYTES = 4 * 1024 * 1024;

export async function getDeltaChannelHistory(
  context: SaverContext,
  config: RunnableConfig,
  channels: readonly string[],
): Promise<Record<string, DeltaChannelHistory>> {
  const operation = "RedisSaver.getDeltaChannelHistory";
  if (!Array.isArray(channels)) throw new InvalidInputError(`${operation}: channels must be an array of names`);
  const { threadId, ns, checkpointId } = readThreadConfig(config, operation);
  requireWellFormed({ thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId ?? "" }, operation);
  for (const channel of channels) {
    if (typeof channel !== "string") {
      throw new InvalidInputError(`${operation}: channel names must be strings, received ${typeof channel}`);
    }
    requireWellFormedInput({ "channel name": channel }, operation);
  }
  if (channels.length === 0) return {};

  const keys = saverThreadKeys(context.keyPrefix, threadId);
  const ttlMs = context.refreshOnRead ? context.ttlMs : 0;
  const open = new Set(channels);
  // Each page's writes (counts per ancestor, newest first, and the writes) and the seeds (channel, blob field, blob,
  // ...), in page order.
  const writePages: WritePage[] = [];
  const seeds: Buffer[] = [];
  const bases = new Map<string, Buffer>();
  let start: "target" | "from" = "target";
  let cursor = escapePart(checkpointId ?? "");
  for (;;) {
    const channelArgs = [...open].flatMap((channel) => [channel, escapePart(channel)]);
    const page = await redisCall(context, { operation, write: false, keys: keys.all }, (client) =>
      callScript(client, "saverDeltaHistory", keys, [
        escapePart(ns),
        cursor,
        start,
        DELTA_HISTORY_PAGE_CHECKPOINTS,
        DELTA_HISTORY_PAGE_BYTES,
        ttlMs,
        ...channelArgs,
      ]),
    );
    for (const [field, base] of page.bases) bases.set(field, base);
    writePages.push({ counts: page.writeCounts, writes: page.writes });
    for (let i = 0; i < page.seeds.length; i += 3) {
      seeds.push(page.seeds[i] as Buffer, page.seeds[i + 1] as Buffer, page.seeds[i + 2] as Buffer);
      open.delete((page.seeds[i] as Buffer).toString("utf8"));
    }
    cursor = page.cursor;
    if (cursor === "" || open.size === 0) break;
    start = "from";
  }
  return decodeHistory(context, threadId, ns, channels, writePages, seeds, bases);
}

interface WritePage {
  /** A 4-byte big-endian count per ancestor with writes, newest first. */
  counts: Buffer;
  /** Their writes one after another, each as a 4-byte big-endian length and the framed write. */
  writes: Buffer;
}

/**
 * Splits the pages' writes into one list of framed writes per ancestor (newest first). The script builds these
 * buffers, so one that does not add up means the reply itself is damaged.
 */
function splitSteps(pages: readonly WritePage[], key: string): Buffer[][] {
  const steps: Buffer[][] = [];
  const damaged = (): never => {
    throw new CorruptCheckpointError(key, "the pending writes read for a DeltaChannel history are cut short");
  };
  for (const { counts, writes } of pages) {
    if (counts.length % 4 !== 0) damaged();
    let offset = 0;
    for (let c = 0; c < counts.length; c += 4) {
      const count = counts.readUInt32BE(c);
      const step: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        if (offset + 4 > writes.length) damaged();
        const length = writes.readUInt32BE(offset);
        if (offset + 4 + length > writes.length) damaged();
        step.push(writes.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
      }
      steps.push(step);
    }
    if (offset !== writes.length) damaged();
  }
  return steps;
}

async function decodeHistory(
  context: SaverContext,
  threadId: string,
  ns: string,
  channels: readonly string[],
  writePages: readonly WritePage[],
  seedList: readonly Buffer[],
  bases: ReadonlyMap<string, Buffer>,
): Promise<Record<string, DeltaChannelHistory>> {
  const keys = saverThreadKeys(context.keyPrefix, threadId);
  const writeSource = {
    key: keys.writes,
    what: () => `a pending write of an ancestor in namespace ${JSON.stringify(ns)}`,
  };
  const steps = splitSteps(writePages, keys.writes);
  // Every write of every ancestor decoded at once; stepOf[i] is the ancestor (0: the newest) write i belongs to.
  const stepOf: number[] = [];
  const values: Buffer[] = [];
  for (let s = 0; s < steps.length; s++) {
    for (const value of steps[s] as Buffer[]) {
      stepOf.push(s);
      values.push(value);
    }
  }
  const seeds = new Map<string, unknown>();
  const [decoded] = await Promise.all([
    Promise.all(values.map((value) => decodeWrite(context, writeSource, value))),
    ...Array.from({ length: seedList.length / 3 }, async (_, k) => {
      const channel = (seedList[3 * k] as Buffer).toString("utf8");
      const field = (seedList[3 * k + 1] as Buffer).toString("utf8");
      const source = { key: keys.blobs, what: () => `the stored value of channel ${JSON.stringify(channel)}` };
      // Plain, compressed or delta-encoded (its bases came with the page): blob-delta.ts rebuilds the bytes.
      const resolved = await resolveBlob(field, seedList[3 * k + 2] as Buffer, bases, context.maxValueBytes, source);
      if (resolved === "cleared") return;
      seeds.set(channel, await loadValue(context, Buffer.from(resolved.type, "utf8"), resolved.bytes, source));
    }),
  ]);
  // Oldest ancestor first; one ancestor's writes in writesSortKey order.
  const order = decoded.map((_, i) => i);
  order.sort(
    (a, b) =>
      (stepOf[b] as number) - (stepOf[a] as number) ||
      compareWritesSortKeys((decoded[a] as DecodedWrite).sortKey, (decoded[b] as DecodedWrite).sortKey),
  );
  const writesByChannel = new Map<string, CheckpointPendingWrite[]>(channels.map((channel) => [channel, []]));
  for (const i of order) {
    const { write } = decoded[i] as DecodedWrite;
    writesByChannel.get(write[1])?.push(write);
  }
  const result: Record<string, DeltaChannelHistory> = {};
  for (const channel of channels) {
    const entry: DeltaChannelHistory = { writes: writesByChannel.get(channel) ?? [] };
    if (seeds.has(channel)) entry.seed = seeds.get(channel);
    result[channel] = entry;
  }
  return result;
}
