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
import type { CheckpointPendingWrite, DeltaChannelHistory } from "@langchain/langgraph-checkpoint";
import { InvalidInputError } from "../errors.js";
import { saverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { resolveBlob } from "./blob-delta.js";
import { escapePart } from "./codec.js";
import { readThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { decodeWrites, loadValue } from "./decode.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";

/** Most ancestors one script call visits: bounds the time one call holds the server. */
export const DELTA_HISTORY_PAGE_CHECKPOINTS = 500;
/** A page also ends once it has gathered this many bytes (at least one ancestor per page). */
export const DELTA_HISTORY_PAGE_BYTES = 4 * 1024 * 1024;

interface RawStep {
  /** Triples: channel name, blob field, stored blob. */
  seeds: Buffer[];
  writeValues: Buffer[];
}

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
  const steps: RawStep[] = [];
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
    for (const step of page.steps) {
      steps.push(step);
      for (let i = 0; i < step.seeds.length; i += 3) open.delete((step.seeds[i] as Buffer).toString("utf8"));
    }
    cursor = page.cursor;
    if (cursor === "" || open.size === 0) break;
    start = "from";
  }
  return decodeHistory(context, threadId, ns, channels, steps, bases);
}

async function decodeHistory(
  context: SaverContext,
  threadId: string,
  ns: string,
  channels: readonly string[],
  steps: readonly RawStep[],
  bases: ReadonlyMap<string, Buffer>,
): Promise<Record<string, DeltaChannelHistory>> {
  const keys = saverThreadKeys(context.keyPrefix, threadId);
  const label = () => `an ancestor in namespace ${JSON.stringify(ns)}`;
  const seeds = new Map<string, unknown>();
  // Steps arrive newest first; each step's writes are decoded and sorted by writesSortKey.
  const decodedSteps = await Promise.all(
    steps.map(async ({ seeds: seedPairs, writeValues }) => {
      for (let i = 0; i < seedPairs.length; i += 3) {
        const channel = (seedPairs[i] as Buffer).toString("utf8");
        const field = (seedPairs[i + 1] as Buffer).toString("utf8");
        const source = { key: keys.blobs, what: () => `the stored value of channel ${JSON.stringify(channel)}` };
        // Plain, compressed or delta-encoded (its bases came with the page): blob-delta.ts rebuilds the bytes.
        const resolved = await resolveBlob(field, seedPairs[i + 2] as Buffer, bases, context.maxValueBytes, source);
        if (resolved === "cleared") continue;
        seeds.set(channel, await loadValue(context, Buffer.from(resolved.type, "utf8"), resolved.bytes, source));
      }
      return decodeWrites(context, keys, label, writeValues);
    }),
  );
  const writesByChannel = new Map<string, CheckpointPendingWrite[]>(channels.map((channel) => [channel, []]));
  for (let i = decodedSteps.length - 1; i >= 0; i -= 1) {
    for (const write of decodedSteps[i] as CheckpointPendingWrite[]) writesByChannel.get(write[1])?.push(write);
  }
  const result: Record<string, DeltaChannelHistory> = {};
  for (const channel of channels) {
    const entry: DeltaChannelHistory = { writes: writesByChannel.get(channel) ?? [] };
    if (seeds.has(channel)) entry.seed = seeds.get(channel);
    result[channel] = entry;
  }
  return result;
}
