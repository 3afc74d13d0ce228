/**
 * getDeltaChannelHistory(): what a DeltaChannel needs to rebuild its value, read server-side. One script
 * (saverDeltaHistory) walks the parent chain of the checkpoint inside the thread's slot and returns only the
 * requested channels' writes and their seed blobs; a long chain is read in pages of bounded work, each page one
 * round trip, so loading a thread costs one command per page instead of one per ancestor.
 *
 * A process that loaded the thread before names the checkpoint whose history it holds (delta-history-cache.ts): the
 * walk stops there and the held pages follow, so loading a thread again walks only the steps written since.
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
import type { SaverThreadKeys } from "../keys.js";
import { callScript } from "../lua/index.js";
import { redisCall } from "../redis-call.js";
import { resolveBlob } from "./blob-delta.js";
import { checkpointField, escapePart, unescapePart } from "./codec.js";
import { readThreadConfig } from "./config.js";
import type { SaverContext } from "./context.js";
import { type DecodedWrite, decodeWriteList, inSortKeyOrder, loadValue } from "./decode.js";
import { type HeldHistory, type HistoryPage, heldPagesAfter, heldPagesBelow } from "./delta-history-cache.js";
import { DELTA_HISTORY_PAGE_BYTES, DELTA_HISTORY_PAGE_CHECKPOINTS } from "./delta-history-pages.js";
import type { ReadAheadHistory } from "./delta-history-read-ahead.js";
import { unwrapRecord } from "./record.js";
import { requireWellFormed, requireWellFormedInput } from "./well-formed.js";
import { splitWriteBundle, writeChannel } from "./write-frame.js";

const HISTORY_OPERATION = "RedisSaver.getDeltaChannelHistory";

/** getDeltaChannelHistory's arguments checked (InvalidInputError): the thread, namespace and checkpoint they name. */
export function readDeltaHistoryInput(config: RunnableConfig, channels: readonly string[]) {
  const operation = HISTORY_OPERATION;
  if (!Array.isArray(channels)) throw new InvalidInputError(`${operation}: channels must be an array of names`);
  const thread = readThreadConfig(config, operation);
  requireWellFormed(
    { thread_id: thread.threadId, checkpoint_ns: thread.ns, checkpoint_id: thread.checkpointId ?? "" },
    operation,
  );
  for (const channel of channels) {
    if (typeof channel !== "string") {
      throw new InvalidInputError(`${operation}: channel names must be strings, received ${typeof channel}`);
    }
    requireWellFormedInput({ "channel name": channel }, operation);
  }
  return thread;
}

export async function getDeltaChannelHistory(
  context: SaverContext,
  config: RunnableConfig,
  channels: readonly string[],
): Promise<Record<string, DeltaChannelHistory>> {
  return readDeltaChannelHistory(context, readDeltaHistoryInput(config, channels), channels);
}

/** getDeltaChannelHistory on arguments readDeltaHistoryInput has checked. */
export async function readDeltaChannelHistory(
  context: SaverContext,
  thread: { threadId: string; ns: string; checkpointId?: string | undefined },
  channels: readonly string[],
): Promise<Record<string, DeltaChannelHistory>> {
  const operation = HISTORY_OPERATION;
  const { threadId, ns, checkpointId } = thread;
  if (channels.length === 0) return {};

  const keys = context.threadKeys.get(threadId).thread;
  const ttlMs = context.refreshOnRead ? context.ttlMs : 0;
  const open = new Set(channels);
  // Each page's pieces with the channels walked when it began, and the seeds, in page order.
  const pages: HistoryPage[] = [];
  const bases = new Map<string, Buffer>();
  let start: "target" | "from" = "target";
  const target = escapePart(checkpointId ?? "");
  let cursor = target;
  const { held, below } = chooseHeld(context.deltaHistory?.get(threadId, ns, channels) ?? [], target);
  // What is held answers the load whole (the target's own history, or one cut from it) once that still counts.
  const heldAnswers = held !== undefined && (below !== undefined || held.checkpointId === target);
  // The read that returned the target (getTuple, list()) also returned the history epoch: when the held history
  // was read under it, the target had these ancestors then, which is what the script would check. No round trip.
  const observed =
    checkpointId === undefined
      ? undefined
      : context.deltaHistory?.takeObserved(threadId, checkpointField(ns, checkpointId));
  if (heldAnswers && observed === held.epoch) {
    return decodeHistory(context, keys, ns, channels, below ?? heldPagesAfter(held, open), held.bases);
  }
  const readAhead =
    checkpointId === undefined ? undefined : takeReadAhead(context, threadId, ns, checkpointId, channels);
  // Read ahead with getTuple, the first page is this walk's own when it did not stop, or stopped where this one
  // would (the same held checkpoint, read under the same epoch, and nothing held answers from below the target).
  const first =
    readAhead !== undefined &&
    (!readAhead.page.stopped ||
      (below === undefined && held?.checkpointId === readAhead.stopAt && held.epoch === readAhead.epoch))
      ? readAhead
      : undefined;
  const generation = first?.generation ?? context.deltaHistory?.generation ?? 0;
  const stopAt = below !== undefined ? target : (held?.checkpointId ?? "");
  let stopped = false;
  // The history epoch every page was read under; undefined when they differ (nothing is held then).
  let epoch: string | undefined;
  for (let call = 0; ; call++) {
    const walked = call === 0 && first !== undefined ? [...first.channels] : [...open];
    const page =
      call === 0 && first !== undefined
        ? { ...first.page, epoch: first.epoch }
        : await redisCall(context, { operation, write: false, keys: keys.all }, (client) =>
            callScript(client, "saverDeltaHistory", keys, [
              escapePart(ns),
              cursor,
              start,
              DELTA_HISTORY_PAGE_CHECKPOINTS,
              DELTA_HISTORY_PAGE_BYTES,
              ttlMs,
              stopAt,
              held?.epoch ?? "",
              ...walked.flatMap((channel) => [channel, escapePart(channel)]),
            ]),
          );
    for (const [field, base] of page.bases) bases.set(field, base);
    // A page that visited no ancestor (a walk that stopped at once) adds nothing.
    if (page.visited.length > 0) {
      pages.push({ walked, entries: page.entries, pieces: page.pieces, seeds: page.seeds, visited: page.visited });
    }
    for (const { channel } of page.seeds) open.delete(channel);
    cursor = page.cursor;
    stopped = page.stopped;
    epoch = call === 0 || epoch === page.epoch ? page.epoch : undefined;
    if (cursor === "" || open.size === 0) break;
    start = "from";
  }
  if (stopped && below !== undefined) {
    // Answered whole by what is held: the target's history cut from it.
    pages.push(...below);
    for (const [field, base] of (held as HeldHistory).bases) bases.set(field, base);
  } else if (stopped && held !== undefined && open.size > 0) {
    pages.push(...heldPagesAfter(held, open));
    for (const [field, base] of held.bases) if (!bases.has(field)) bases.set(field, base);
  }
  const history = await decodeHistory(context, keys, ns, channels, pages, bases);
  // Held once it decoded (a damaged page throws above); a load by the newest checkpoint has no id to hold it by,
  // and one answered whole by what is held holds nothing new (a cut keeps the longer history held).
  if (context.deltaHistory !== undefined && epoch !== undefined && target !== "" && !(stopped && heldAnswers)) {
    context.deltaHistory.set(threadId, ns, channels, { checkpointId: target, epoch, pages, bases }, generation);
  }
  return history;
}

/** The first page getTuple read ahead for the checkpoint, when it walked these channels (and maybe more). */
function takeReadAhead(
  context: SaverContext,
  threadId: string,
  ns: string,
  checkpointId: string,
  channels: readonly string[],
): ReadAheadHistory | undefined {
  const readAhead = context.historyReadAhead?.take(threadId, checkpointField(ns, checkpointId));
  return readAhead !== undefined && channels.every((channel) => readAhead.channels.includes(channel))
    ? readAhead
    : undefined;
}

/**
 * Which held history a load of `target` uses: the one held for `target` itself; else one that `target` is an
 * ancestor on, whose pages after it are `target`'s history (getStateHistory reads one ancestor after another), once
 * the script says that still counts (it then stops at the target right away); else the tip, where the walk stops if
 * it meets it.
 */
function chooseHeld(
  helds: readonly HeldHistory[],
  target: string,
): { held: HeldHistory | undefined; below?: HistoryPage[] } {
  const exact = helds.find((candidate) => candidate.checkpointId === target);
  if (exact !== undefined || target === "") return { held: exact ?? helds[0] };
  for (const candidate of helds) {
    const below = heldPagesBelow(candidate, target);
    if (below !== undefined) return { held: candidate, below };
  }
  return { held: helds[0] };
}

/**
 * The history this process holds for the newest checkpoint of the namespace it loaded with these channels (see
 * delta-history-cache.ts), decoded anew, so no caller shares objects with another: for reads that must do without
 * Redis (the offline option). Undefined when it holds none.
 */
export async function decodeHeldHistory(
  context: SaverContext,
  threadId: string,
  ns: string,
  channels: readonly string[],
): Promise<{ checkpointId: string; history: Record<string, DeltaChannelHistory> } | undefined> {
  const held = context.deltaHistory?.get(threadId, ns, channels)[0];
  if (held === undefined) return undefined;
  const keys = context.threadKeys.get(threadId).thread;
  const pages = heldPagesAfter(held, new Set(channels));
  const history = await decodeHistory(context, keys, ns, channels, pages, held.bases);
  return { checkpointId: unescapePart(held.checkpointId), history };
}

/**
 * The framed writes of each ancestor with pieces (newest first) that go to a channel walked at that ancestor: the
 * page's channels, less those whose seed came at a newer ancestor. A write whose channel cannot be read is kept (its
 * decoding reports the corruption), as are a bundle's bytes that are no whole entry. The script builds the entries,
 * so pieces that do not add up mean the reply itself is damaged. fromRecords: the frames cut from records' bundles.
 */
function splitSteps(
  pages: readonly HistoryPage[],
  keys: SaverThreadKeys,
): { steps: Buffer[][]; fromRecords: Set<Buffer> } {
  const steps: Buffer[][] = [];
  const fromRecords = new Set<Buffer>();
  const damaged = (): never => {
    throw new CorruptCheckpointError(keys.writes, "the pending writes read for a DeltaChannel history are cut short");
  };
  const recordSource = {
    key: keys.checkpoints,
    what: () => "the record of an ancestor read for a DeltaChannel history",
  };
  for (const { walked, entries, pieces, seeds } of pages) {
    if (entries.length % 4 !== 0) damaged();
    const open = new Set(walked);
    let piece = 0;
    let seed = 0;
    for (let e = 0; e < entries.length / 4; e++) {
      // Channels whose seed came at an ancestor before this entry's are no longer walked.
      for (; seed < seeds.length && (seeds[seed]?.entry as number) <= e; seed++)
        open.delete(seeds[seed]?.channel ?? "");
      const entry = entries.readUInt32BE(4 * e);
      const step: Buffer[] = [];
      if (entry & 1) {
        const stored = pieces[piece++] ?? damaged();
        const bundle = entry & 2 ? (unwrapRecord(stored, recordSource).bundle ?? damaged()) : stored;
        // Every write of the bundle stands alone once split (a write repeating its task gets it back).
        for (const frame of splitWriteBundle(bundle)) {
          const channel = writeChannel(frame);
          if (channel !== undefined && !open.has(channel)) continue;
          step.push(frame);
          if (entry & 2) fromRecords.add(frame);
        }
      }
      for (let k = 0; k < entry >>> 2; k++) {
        const frame = pieces[piece++] ?? damaged();
        const channel = writeChannel(frame);
        if (channel === undefined || open.has(channel)) step.push(frame);
      }
      steps.push(step);
    }
    if (piece !== pieces.length) damaged();
  }
  return { steps, fromRecords };
}

/**
 * The writes decoded, in order; errors name the key each came from: the checkpoints hash for a write a record
 * carried (`fromRecords`), the writes hash for the others.
 */
async function decodeWrites(
  context: SaverContext,
  keys: SaverThreadKeys,
  ns: string,
  values: readonly Buffer[],
  fromRecords: ReadonlySet<Buffer>,
): Promise<DecodedWrite[]> {
  const where = `an ancestor in namespace ${JSON.stringify(ns)}`;
  const hashSource = { key: keys.writes, what: () => `a pending write of ${where}` };
  const recordSource = { key: keys.checkpoints, what: () => `a pending write in the record of ${where}` };
  const carried = values.filter((value) => fromRecords.has(value));
  if (carried.length === 0 || carried.length === values.length) {
    return decodeWriteList(context, carried.length === 0 ? hashSource : recordSource, values);
  }
  const [inRecords, inHash] = await Promise.all([
    decodeWriteList(context, recordSource, carried),
    decodeWriteList(
      context,
      hashSource,
      values.filter((value) => !fromRecords.has(value)),
    ),
  ]);
  let r = 0;
  let h = 0;
  return values.map((value) => (fromRecords.has(value) ? inRecords[r++] : inHash[h++]) as DecodedWrite);
}

async function decodeHistory(
  context: SaverContext,
  keys: SaverThreadKeys,
  ns: string,
  channels: readonly string[],
  pages: readonly HistoryPage[],
  bases: ReadonlyMap<string, Buffer>,
): Promise<Record<string, DeltaChannelHistory>> {
  const { steps, fromRecords } = splitSteps(pages, keys);
  // Every write of every ancestor decoded at once; stepStart[s] is where ancestor s's writes begin (0: the newest).
  const stepStart: number[] = [];
  const values: Buffer[] = [];
  for (const step of steps) {
    stepStart.push(values.length);
    for (const value of step) values.push(value);
  }
  stepStart.push(values.length);
  const seeds = new Map<string, unknown>();
  const [decoded] = await Promise.all([
    decodeWrites(context, keys, ns, values, fromRecords),
    ...pages.flatMap(({ seeds: pageSeeds }) =>
      pageSeeds.map(async ({ channel, field, blob }) => {
        const source = { key: keys.blobs, what: () => `the stored value of channel ${JSON.stringify(channel)}` };
        // Plain, compressed or delta-encoded (its bases came with the page): blob-delta.ts rebuilds the bytes.
        const resolved = await resolveBlob(field, blob, bases, context.maxValueBytes, source);
        if (resolved === "cleared") return;
        seeds.set(channel, await loadValue(context, Buffer.from(resolved.type, "utf8"), resolved.bytes, source));
      }),
    ),
  ]);
  // Oldest ancestor first; one ancestor's writes in writesSortKey order (as stored, most often: then no sort).
  const writesByChannel = new Map<string, CheckpointPendingWrite[]>(channels.map((channel) => [channel, []]));
  for (let s = steps.length - 1; s >= 0; s--) {
    const step = decoded.slice(stepStart[s], stepStart[s + 1]);
    if (!inSortKeyOrder(step)) step.sort((a, b) => compareWritesSortKeys(a.sortKey, b.sortKey));
    for (const { write } of step) writesByChannel.get(write[1])?.push(write);
  }
  const result: Record<string, DeltaChannelHistory> = {};
  for (const channel of channels) {
    const entry: DeltaChannelHistory = { writes: writesByChannel.get(channel) ?? [] };
    if (seeds.has(channel)) entry.seed = seeds.get(channel);
    result[channel] = entry;
  }
  return result;
}
