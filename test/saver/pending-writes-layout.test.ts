/**
 * Pending writes stored by older releases (one `writes` field `ns\0id\0taskId\0idx` per write, indexed by the
 * writesIndex ZSET): written here with raw commands as those releases wrote them, then read, copied, pruned and
 * written through RedisSaver. Reads see them as they are; the first write converts the thread to one bundle per
 * checkpoint and drops the index. MemorySaver, given the same calls, is the reference.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type CheckpointTuple,
  MemorySaver,
  type PendingWrite,
  uuid6,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField, escapePart, frame } from "../../src/saver/codec.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

type Saver = RedisSaver | MemorySaver;

/** What a reader compares: everything of a tuple but the stored config's extra fields. */
const view = (tuple: CheckpointTuple | undefined) =>
  tuple && {
    id: tuple.checkpoint.id,
    values: tuple.checkpoint.channel_values,
    parent: tuple.parentConfig?.configurable?.checkpoint_id,
    writes: tuple.pendingWrites,
  };

describe.each(targets)("pending writes in the layout of older releases ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  /** putWrites as older releases stored it: one field and one index member per write (HSET for special writes). */
  async function oldPutWrites(keyPrefix: string, config: RunnableConfig, writes: PendingWrite[], taskId: string) {
    const { thread_id: threadId, checkpoint_ns: ns = "", checkpoint_id: id } = config.configurable ?? {};
    const keys = saverThreadKeys(keyPrefix, threadId);
    for (const [position, [channel, value]] of writes.entries()) {
      const idx = WRITES_IDX_MAP[channel] ?? position;
      const field = `${checkpointField(ns, id)}\0${escapePart(taskId)}\0${idx}`;
      const framed = frame([taskId, channel, "json", JSON.stringify(value), "", String(idx)]);
      if (idx < 0) await client.hset(keys.writes, field, framed);
      else await client.hsetnx(keys.writes, field, framed);
      await client.zadd(keys.writesIndex, 0, field);
    }
  }

  /**
   * The same thread in RedisSaver (writes in the old layout) and MemorySaver: a <- b <- c in the root namespace and
   * one checkpoint in "sub"; a has two tasks and an error, b one write, c none, the subgraph one.
   */
  async function oldThread(redis: RedisSaver, memory: MemorySaver, threadId: string) {
    const configs: RunnableConfig[] = [];
    const ids = [uuid6(-1), uuid6(-1), uuid6(-1), uuid6(-1)];
    const put = async (ns: string, index: number, parent: RunnableConfig | undefined, step: number) => {
      const checkpoint = makeCheckpoint({ x: index }, { x: index + 1 }, ids[index]);
      const metadata = { ...(step < 0 ? inputMetadata : loopMetadata(step)), run_id: `run-${ns || "root"}` };
      const config = { configurable: { thread_id: threadId, checkpoint_ns: ns, ...parent?.configurable } };
      const stored = [];
      for (const saver of [redis, memory] as Saver[]) {
        stored.push(await saver.put(config, structuredClone(checkpoint), metadata, { x: index + 1 }));
      }
      configs.push(stored[0] as RunnableConfig);
      return stored[0] as RunnableConfig;
    };
    const a = await put("", 0, undefined, -1);
    const b = await put("", 1, a, 0);
    await put("", 2, b, 1);
    const sub = await put("sub", 3, undefined, -1);
    const writes: [RunnableConfig, PendingWrite[], string][] = [
      [
        a,
        [
          ["x", 10],
          ["y", "one"],
        ],
        "task-2",
      ],
      [a, [["x", 11]], "task-1"],
      [a, [["__error__", "boom"]], "task-1"],
      [b, [["x", 20]], "task-3"],
      [sub, [["x", 30]], "task-4"],
    ];
    for (const [config, list, taskId] of writes) {
      await oldPutWrites(redis.keyPrefix, config, list, taskId);
      await memory.putWrites(config, list, taskId);
    }
    return configs;
  }

  async function expectSameReads(redis: RedisSaver, memory: MemorySaver, configs: RunnableConfig[]) {
    for (const config of configs) {
      expect(view(await redis.getTuple(config))).toEqual(view(await memory.getTuple(config)));
      expect(await redis.getDeltaChannelHistory({ config, channels: ["x", "y"] })).toEqual(
        await memory.getDeltaChannelHistory({ config, channels: ["x", "y"] }),
      );
    }
    const threadId = configs[0]?.configurable?.thread_id;
    for (const ns of ["", "sub"]) {
      const listed = async (saver: Saver) =>
        (await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: ns } }))).map(view);
      expect(await listed(redis)).toEqual(await listed(memory));
    }
  }

  it("reads them as they are, and converts the thread on its first putWrites", async () => {
    const keyPrefix = testPrefix("pwold");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await oldThread(redis, memory, "t");
    const keys = saverThreadKeys(keyPrefix, "t");
    expect(await client.hlen(keys.writes)).toBe(6);
    await expectSameReads(redis, memory, configs);
    // Reading converts nothing.
    expect(await client.zcard(keys.writesIndex)).toBe(6);

    // A retried task-2 (its first attempt's write stays) and a new task, on the checkpoint of older writes.
    const [a] = configs as [RunnableConfig];
    for (const saver of [redis, memory] as Saver[]) {
      await saver.putWrites(a, [["x", 99]], "task-2");
      await saver.putWrites(a, [["x", 12]], "task-0");
    }
    expect(await client.exists(keys.writesIndex)).toBe(0);
    const fields = (await client.hkeys(keys.writes)).sort();
    expect(fields).toEqual(
      [checkpointField("", a.configurable?.checkpoint_id), checkpointField("", configs[1]?.configurable?.checkpoint_id)]
        .concat(checkpointField("sub", configs[3]?.configurable?.checkpoint_id))
        .sort(),
    );
    await expectSameReads(redis, memory, configs);
  });

  it("converts the thread on its first put, keeping the thread's TTL", async () => {
    const keyPrefix = testPrefix("pwput");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await oldThread(redis, memory, "t");
    const keys = saverThreadKeys(keyPrefix, "t");
    await client.pexpire(keys.writes, 600_000);
    const last = configs[2] as RunnableConfig;
    const checkpoint = makeCheckpoint({ x: 9 }, { x: 9 });
    const next: RunnableConfig[] = [];
    for (const saver of [redis, memory] as Saver[]) {
      next.push(await saver.put(last, structuredClone(checkpoint), loopMetadata(2), { x: 9 }));
    }
    expect(await client.exists(keys.writesIndex)).toBe(0);
    expect(await client.hlen(keys.writes)).toBe(3);
    expect(await client.pttl(keys.writes)).toBeGreaterThan(0);
    await expectSameReads(redis, memory, [...configs, next[0] as RunnableConfig]);
  });

  it("copyThread copies them in the current layout and leaves the source as it was", async () => {
    const keyPrefix = testPrefix("pwcopy");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await oldThread(redis, memory, "from");
    expect(await redis.copyThread("from", "to")).toEqual({ checkpoints: 4 });
    const to = saverThreadKeys(keyPrefix, "to");
    expect(await client.exists(to.writesIndex)).toBe(0);
    expect(await client.hlen(to.writes)).toBe(3);
    expect(await client.zcard(saverThreadKeys(keyPrefix, "from").writesIndex)).toBe(6);
    for (const config of configs) {
      const copied = { configurable: { ...config.configurable, thread_id: "to" } };
      expect(view(await redis.getTuple(copied))).toEqual(view(await memory.getTuple(config)));
    }
  });

  it("prune and deleteForRuns convert the thread and count the writes they remove", async () => {
    const keyPrefix = testPrefix("pwprune");
    const redis = new RedisSaver({ client, keyPrefix });
    const configs = await oldThread(redis, new MemorySaver(), "t");
    const keys = saverThreadKeys(keyPrefix, "t");
    // keepLast 1: a (4 writes) and b (1 write) go; c and the subgraph's checkpoint stay.
    expect(await redis.prune(["t"], { keepLast: 1 })).toMatchObject({ checkpoints: 2, writes: 5 });
    expect(await client.exists(keys.writesIndex)).toBe(0);
    expect(await client.hkeys(keys.writes)).toEqual([checkpointField("sub", configs[3]?.configurable?.checkpoint_id)]);
    expect((await redis.getTuple(configs[3] as RunnableConfig))?.pendingWrites).toEqual([["task-4", "x", 30]]);

    const other = new RedisSaver({ client, keyPrefix: testPrefix("pwrun") });
    await oldThread(other, new MemorySaver(), "t");
    expect(await other.deleteForRuns(["run-root"])).toMatchObject({ checkpoints: 3, writes: 5 });
    expect(await other.deleteForRuns(["run-sub"])).toMatchObject({ checkpoints: 1, writes: 1 });
    expect(await client.exists(...saverThreadKeys(other.keyPrefix, "t").all)).toBe(0);
  });
});
