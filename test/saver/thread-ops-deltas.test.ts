/**
 * copyThread, deleteForRuns and getDeltaChannelHistory on threads whose channel values are stored as delta blobs
 * (blob-delta.ts): a kept value may lean on a base that no remaining checkpoint references directly. Every
 * remaining checkpoint must still read like MemorySaver's, and nothing the remaining chains need may go.
 */
import {
  type BaseCheckpointSaver,
  type CheckpointMetadata,
  type CheckpointTuple,
  MemorySaver,
} from "@langchain/langgraph-checkpoint";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { blobBaseField } from "../../src/saver/blob-delta.js";
import { decodeRefs, FrameFormat } from "../../src/saver/codec.js";
import { createSaverContext } from "../../src/saver/context.js";
import { deleteForRuns } from "../../src/saver/delete-for-runs.js";
import { recordRefs } from "../../src/saver/record.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { CHANNELS, type HistoryStep, randomHistory } from "./random-history.js";
import { collect } from "./saver-helpers.js";

/** Each growing list gains an item this big per version: past blobDeltas.minBytes (2 KiB) after a few versions. */
const ITEM_BYTES = 700;

async function threadState(saver: BaseCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples = await collect(saver.list({ configurable: { thread_id: threadId } }));
  const key = (t: CheckpointTuple) => `${t.config.configurable?.checkpoint_ns}\0${t.checkpoint.id}`;
  return tuples.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

/** Every checkpoint read one by one (getTuple resolves its own delta chains), in threadState's order. */
async function eachTuple(saver: BaseCheckpointSaver, threadId: string, like: readonly CheckpointTuple[]) {
  return Promise.all(
    like.map((t) =>
      saver.getTuple({
        configurable: {
          thread_id: threadId,
          checkpoint_ns: t.config.configurable?.checkpoint_ns,
          checkpoint_id: t.checkpoint.id,
        },
      }),
    ),
  );
}

async function histories(saver: BaseCheckpointSaver, threadId: string, steps: readonly HistoryStep[]) {
  return Promise.all(
    steps.map((step) =>
      saver.getDeltaChannelHistory({
        config: { configurable: { ...step.config.configurable, thread_id: threadId } },
        channels: [...CHANNELS],
      }),
    ),
  );
}

/**
 * The thread's blobs: how many are deltas, and how many are kept only as the base of another blob. Fails when a
 * stored blob is needed by no remaining checkpoint (directly or through a chain), or a chain's base is missing.
 */
async function blobCensus(saver: RedisSaver, threadId: string) {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const source = { key: keys.blobs, what: "a blob" };
  const records = (await saver.client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  const blobs = new Map(Object.entries((await saver.client.hgetallBuffer(keys.blobs)) as Record<string, Buffer>));
  const referenced = new Set<string>();
  for (const [field, record] of Object.entries(records)) {
    const ns = field.slice(0, field.indexOf("\0"));
    const refs = decodeRefs(recordRefs(record, { key: keys.checkpoints, what: "record" }));
    for (const [channel, version] of refs.channels) referenced.add(`${ns}\0${channel}\0${version}`);
  }
  const needed = new Set<string>();
  for (const field of referenced) {
    let current: string | undefined = field;
    while (current !== undefined && !needed.has(current)) {
      needed.add(current);
      const blob = blobs.get(current);
      if (blob === undefined) {
        expect(current === field, `the base ${JSON.stringify(current)} of a kept blob is missing`).toBe(true);
        break;
      }
      current = blobBaseField(current, blob, source);
    }
  }
  for (const field of blobs.keys()) expect(needed.has(field), `orphan blob ${JSON.stringify(field)}`).toBe(true);
  const deltas = [...blobs.values()].filter((b) => b[0] === FrameFormat.DELTA || b[0] === FrameFormat.DELTA_DEFLATED);
  return { deltas: deltas.length, baseOnly: [...blobs.keys()].filter((f) => !referenced.has(f)).length };
}

describe.each(targets)("RedisSaver thread operations on delta blobs ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });

  it("deleteForRuns keeps every base a remaining value leans on; copyThread copies chains whole", async () => {
    let baseOnly = 0;
    for (const seed of [31, 32, 33]) {
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("drd") });
      const full = new MemorySaver();
      const steps = await randomHistory([redis, full], "t", seed, 40, { growingBytes: ITEM_BYTES });
      expect((await blobCensus(redis, "t")).deltas, `seed ${seed}: no delta blobs written`).toBeGreaterThan(0);

      // The copy, read through its own keys only, equals the source (and MemorySaver).
      await randomHistory([full], "t-copy", seed, 40, { growingBytes: ITEM_BYTES });
      await redis.copyThread("t", "t-copy");
      const copyState = await threadState(redis, "t-copy");
      expect(copyState).toEqual(await threadState(full, "t-copy"));
      expect(await eachTuple(redis, "t-copy", copyState)).toEqual(await eachTuple(full, "t-copy", copyState));
      expect(await histories(redis, "t-copy", steps)).toEqual(await histories(full, "t-copy", steps));
      expect((await blobCensus(redis, "t-copy")).deltas).toBeGreaterThan(0);

      const doomed = ["run-0", "run-2"];
      await redis.deleteForRuns(doomed);
      const expected = (await threadState(full, "t")).filter(
        (t) => !doomed.includes(String((t.metadata as { run_id?: string } | undefined)?.run_id)),
      );
      const state = await threadState(redis, "t");
      expect(state).toEqual(expected);
      expect(await eachTuple(redis, "t", state)).toEqual(await eachTuple(full, "t", state));
      baseOnly += (await blobCensus(redis, "t")).baseOnly;

      // The saver writes on after the deletion (its cache of bases was dropped) and reads back what it wrote.
      const latest = expected[0] as CheckpointTuple;
      const next = { ...latest.checkpoint, id: "cp-after", channel_values: { log: ["after"] } };
      await redis.put(
        latest.config,
        { ...next, channel_versions: { log: 999 } },
        latest.metadata as CheckpointMetadata,
        { log: 999 },
      );
      const after = await redis.getTuple({
        configurable: { ...latest.config.configurable, checkpoint_id: "cp-after" },
      });
      expect(after?.checkpoint.channel_values).toEqual({ log: ["after"] });
    }
    // The case this guards: kept deltas leaned on blobs only the deleted checkpoints referenced.
    expect(baseOnly).toBeGreaterThan(0);
  });

  it("deleteForRuns checking blobs in pages (a long namespace) removes exactly what the one-script check removes", async () => {
    let paged = 0;
    for (const seed of [34, 35, 36, 37]) {
      const atOnce = new RedisSaver({ client, keyPrefix: testPrefix("dra") });
      const inPages = new RedisSaver({ client, keyPrefix: testPrefix("drp") });
      const memory = new MemorySaver();
      await randomHistory([atOnce, inPages, memory], "t", seed, 50, {
        growingBytes: seed % 2 === 0 ? ITEM_BYTES : undefined,
        deltaChannels: seed % 3 === 0 ? ["messages"] : [],
      });
      const doomed = seed % 2 === 0 ? ["run-1"] : ["run-0", "run-3"];
      const expected = await atOnce.deleteForRuns(doomed);
      // A limit of 0: every namespace the runs wrote counts as long, so its check goes through saverCheckBlobs, in
      // pages of a few checkpoints.
      const context = createSaverContext({
        client,
        keyPrefix: inPages.keyPrefix,
        ttl: { refreshOnRead: false },
        serde: inPages.serde,
        blobCheckLimit: 0,
        blobCheckPage: 1 + (seed % 4),
      });
      const result = await deleteForRuns(context, doomed);
      expect(result, `seed ${seed}`).toEqual(expected);
      paged += result.blobs;
      const blobFields = async (saver: RedisSaver) =>
        (await client.hkeys(saverThreadKeys(saver.keyPrefix, "t").blobs)).sort();
      expect(await blobFields(inPages), `seed ${seed}`).toEqual(await blobFields(atOnce));
      expect(await client.hexists(saverThreadKeys(inPages.keyPrefix, "t").runFences, "{sweep}")).toBe(0);
      const state = await threadState(inPages, "t");
      expect(state).toEqual(await threadState(atOnce, "t"));
      expect(await eachTuple(inPages, "t", state)).toEqual(await eachTuple(memory, "t", state));
      await blobCensus(inPages, "t");
    }
    expect(paged).toBeGreaterThan(0);
  });

  it("getDeltaChannelHistory rebuilds delta-encoded seeds (their bases come with the page)", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("dhd") });
    const memory = new MemorySaver();
    const steps = await randomHistory([redis, memory], "h", 41, 60, { growingBytes: ITEM_BYTES });
    expect((await blobCensus(redis, "h")).deltas).toBeGreaterThan(0);
    expect(await histories(redis, "h", steps)).toEqual(await histories(memory, "h", steps));
  });
});
