/**
 * Writes stranded by a step whose checkpoint was never put: LangGraph sends a step's writes and the put of their
 * checkpoint side by side, so a process that dies between the two leaves writes under an id no checkpoint will ever
 * have (the resumed run puts the step again under a new id). Retention and prune remove them once their id is older
 * than every kept root checkpoint, in each place they can be (writes ahead in the checkpoints hash, a writes-hash
 * bundle with `compression: false`, overflow writes), and leave writes whose put is still on its way.
 */
import { randomBytes } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver, type PendingWrite, uuid6 } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver, type RedisSaverOptions } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField } from "../../src/saver/codec.js";
import { retentionSlack } from "../../src/saver/retention.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { writesWithoutCheckpoint } from "./retention-helpers.js";
import { collect, indexMembers, loopMetadata, makeCheckpoint, tupleView } from "./saver-helpers.js";

type Saver = RedisSaver | MemorySaver;

/** A step's writes: a small one (the bundle) and one past the bundle's 4 KiB (an overflow field of its own). */
const stepWrites = (i: number): PendingWrite[] => [
  ["x", i],
  ["big", randomBytes(3072).toString("base64")],
];

const layouts: { name: string; options: Partial<RedisSaverOptions> }[] = [
  { name: "default layout", options: {} },
  { name: "compression: false", options: { compression: false } },
];

describe.each(targets)("writes stranded by a step never put ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  /**
   * A thread written as LangGraph writes it with async durability: each step's writes reach Redis before the put of
   * their checkpoint. Steps in `crashAt` die between the two: their writes stay, their checkpoint never comes, and
   * the next step goes on from the last checkpoint put (a resumed run). Returns the configs put and the ids stranded.
   */
  async function thread(savers: Saver[], threadId: string, steps: number, crashAt: number[]) {
    const put: RunnableConfig[] = [];
    const stranded: string[] = [];
    for (let i = 0; i < steps; i++) {
      const id = uuid6(-1);
      const target = { configurable: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: id } };
      const writes = stepWrites(i);
      for (const saver of savers) await saver.putWrites(target, writes, `task-${i}`);
      if (crashAt.includes(i)) {
        stranded.push(id);
        continue;
      }
      const parent = put.at(-1)?.configurable;
      const checkpoint = makeCheckpoint({ x: i }, { x: i + 1 }, id);
      for (const saver of savers) {
        await saver.put(
          { configurable: { thread_id: threadId, checkpoint_ns: "", ...(parent ?? {}) } },
          structuredClone(checkpoint),
          loopMetadata(i),
          { x: i + 1 },
        );
      }
      put.push(target);
    }
    return { put, stranded };
  }

  /** Whether any writes of checkpoint `id` (root namespace) are still stored, in any of the three places. */
  async function storedWritesOf(keyPrefix: string, threadId: string, id: string): Promise<string[]> {
    const keys = saverThreadKeys(keyPrefix, threadId);
    const field = checkpointField("", id);
    const places: string[] = [];
    if ((await client.hexists(keys.checkpoints, field)) === 1) places.push("checkpoints");
    const writeFields = await client.hkeys(keys.writes);
    if (writeFields.some((f) => f === field || f.startsWith(`${field}\0`))) places.push("writes");
    if ((await client.zrangebylex(keys.writesIndex, `[${field}\0`, `(${field}\x01`)).length > 0) places.push("index");
    return places;
  }

  /** Every field of the checkpoints hash is a checkpoint the index names, and so is every writes-hash field's. */
  async function expectOnlyCheckpoints(keyPrefix: string, threadId: string) {
    expect(await writesWithoutCheckpoint(client, keyPrefix, threadId)).toEqual([]);
  }

  async function expectKeptAsMemory(redis: RedisSaver, memory: MemorySaver, threadId: string) {
    const kept = await collect(redis.list({ configurable: { thread_id: threadId } }));
    expect(kept.length).toBeGreaterThan(0);
    for (const tuple of kept) {
      expect(tupleView(await redis.getTuple(tuple.config))).toEqual(tupleView(await memory.getTuple(tuple.config)));
    }
  }

  it.each(layouts)("retention removes them once older than every kept checkpoint ($name)", async ({ options }) => {
    const keyPrefix = testPrefix("strand");
    const keepLast = 3;
    const redis = new RedisSaver({ client, keyPrefix, retention: { keepLast }, ...options });
    const memory = new MemorySaver();
    const early = await thread([redis, memory], "t", 2, [1]);
    const [strandedEarly] = early.stranded as [string];
    // Stored where the layout keeps writes ahead of their put (and the big write in overflow), before any trim.
    const before = await storedWritesOf(keyPrefix, "t", strandedEarly);
    expect(before).toEqual(options.compression === false ? ["writes", "index"] : ["checkpoints", "writes", "index"]);

    // The thread goes on past keepLast + slack puts (trims happen), with one more crash on the way.
    const steps = keepLast + 2 * retentionSlack(keepLast) + 2;
    const later = await thread([redis, memory], "t", steps, [4]);
    for (const id of [strandedEarly, ...later.stranded]) expect(await storedWritesOf(keyPrefix, "t", id)).toEqual([]);
    await expectOnlyCheckpoints(keyPrefix, "t");
    await expectKeptAsMemory(redis, memory, "t");
  });

  it("writes whose put is on its way stay, and the put finds them", async () => {
    const keyPrefix = testPrefix("strandfly");
    const keepLast = 3;
    const redis = new RedisSaver({ client, keyPrefix, retention: { keepLast } });
    const memory = new MemorySaver();
    const savers = [redis, memory];
    // Up to one put before a trim: the next root put trims.
    const { put } = await thread(savers, "t", keepLast + retentionSlack(keepLast) - 1, []);
    const rootId = uuid6(-1);
    // A subgraph step running beside the root's next put: its writes arrive, its put has not yet.
    const childId = uuid6(-1);
    const child = { configurable: { thread_id: "t", checkpoint_ns: "child:1", checkpoint_id: childId } };
    const writes = stepWrites(99);
    for (const saver of savers) await saver.putWrites(child, writes, "sub-task");
    const count = (await indexMembers(client, saverThreadKeys(keyPrefix, "t").byNamespace)).length;
    for (const saver of savers) {
      await saver.put(put.at(-1) as RunnableConfig, makeCheckpoint({ x: 1 }, { x: 2 }, rootId), loopMetadata(50), {
        x: 2,
      });
    }
    // The root put trimmed (fewer index entries now), and the subgraph's writes are still there.
    expect((await indexMembers(client, saverThreadKeys(keyPrefix, "t").byNamespace)).length).toBeLessThan(count + 1);
    const childField = checkpointField("child:1", childId);
    expect(await client.hexists(saverThreadKeys(keyPrefix, "t").checkpoints, childField)).toBe(1);
    for (const saver of savers) {
      await saver.put(
        { configurable: { thread_id: "t", checkpoint_ns: "child:1" } },
        makeCheckpoint({ x: 3 }, { x: 4 }, childId),
        loopMetadata(0),
        { x: 4 },
      );
    }
    const tuple = await redis.getTuple(child);
    expect(tuple?.pendingWrites?.length).toBe(2);
    expect(tupleView(tuple)).toEqual(tupleView(await memory.getTuple(child)));
  });

  it.each(layouts)("prune removes them and counts them with the writes ($name)", async ({ options }) => {
    const keyPrefix = testPrefix("strandprune");
    const redis = new RedisSaver({ client, keyPrefix, ...options });
    const memory = new MemorySaver();
    const { put, stranded } = await thread([redis, memory], "t", 12, [2, 6]);
    // A subgraph namespace too: prune trims the root first, and finds stranded writes on its last call.
    const child = { configurable: { thread_id: "t", checkpoint_ns: "child:1" } };
    const childCheckpoint = makeCheckpoint({ x: 1 }, { x: 1 });
    for (const saver of [redis, memory])
      await saver.put(child, structuredClone(childCheckpoint), loopMetadata(0), { x: 1 });
    for (const id of stranded) expect(await storedWritesOf(keyPrefix, "t", id)).not.toEqual([]);
    // Nothing to trim yet (fewer checkpoints than keepLast): no cutoff, so nothing stranded can be told apart.
    expect(await redis.prune(["t"], { keepLast: 50 })).toMatchObject({ checkpoints: 0, writes: 0 });
    for (const id of stranded) expect(await storedWritesOf(keyPrefix, "t", id)).not.toEqual([]);

    const result = await redis.prune(["t"], { keepLast: 2 });
    expect(result.checkpoints).toBe(put.length - 2);
    expect(
      await redis.getTuple({ configurable: { ...child.configurable, checkpoint_id: childCheckpoint.id } }),
    ).toBeDefined();
    // Two writes per removed checkpoint, and the two stranded steps' two writes each.
    expect(result.writes).toBe(2 * (put.length - 2) + 2 * stranded.length);
    for (const id of stranded) expect(await storedWritesOf(keyPrefix, "t", id)).toEqual([]);
    await expectOnlyCheckpoints(keyPrefix, "t");
    await expectKeptAsMemory(redis, memory, "t");
  });
});
