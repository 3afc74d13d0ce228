/**
 * A checkpoint's pending-write bundle carried inside its record (FrameFormat.RECORD_WITH_WRITES, include
 * recordWrites.lua): where putWrites puts it (the record once stored, the writes hash before the put, for
 * `compression: false` and where the hash already holds it), a put again carrying it over, replacements and overflow
 * beside it, threads that mix both places, and every remover's counts. MemorySaver, given the same calls, is the
 * reference for what reads return.
 */
import { randomBytes } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type CheckpointMetadata,
  type CheckpointTuple,
  MemorySaver,
  type PendingWrite,
  uuid6,
} from "@langchain/langgraph-checkpoint";
import { readOutboxEvents } from "../../src/audit/read-outbox.js";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField } from "../../src/saver/codec.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect, loopMetadata, makeCheckpoint, storedRecord } from "./saver-helpers.js";

type Saver = RedisSaver | MemorySaver;

const view = (tuple: CheckpointTuple | undefined) =>
  tuple && {
    id: tuple.checkpoint.id,
    values: tuple.checkpoint.channel_values,
    parent: tuple.parentConfig?.configurable?.checkpoint_id,
    metadata: tuple.metadata,
    writes: tuple.pendingWrites,
  };

describe.each(targets)("pending writes carried in records ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  /** Where each checkpoint's bundle is: "record", "hash" or "none". */
  async function placeOf(keyPrefix: string, threadId: string, config: RunnableConfig) {
    const keys = saverThreadKeys(keyPrefix, threadId);
    const field = checkpointField(config.configurable?.checkpoint_ns ?? "", config.configurable?.checkpoint_id);
    const inRecord = (await storedRecord(client, keys.checkpoints, field))?.bundle !== undefined;
    const inHash = (await client.hexists(keys.writes, field)) === 1;
    expect(inRecord && inHash).toBe(false);
    return inRecord ? "record" : inHash ? "hash" : "none";
  }

  /** A chain of `length` checkpoints in the root namespace, put to every saver; run ids alternate `${threadId}-a`, -b. */
  async function chain(savers: Saver[], threadId: string, length: number): Promise<RunnableConfig[]> {
    const configs: RunnableConfig[] = [];
    for (let i = 0; i < length; i++) {
      const parent = configs[i - 1]?.configurable;
      const checkpoint = makeCheckpoint({ x: i }, { x: i + 1 }, uuid6(-1));
      const metadata = { ...loopMetadata(i), run_id: `${threadId}-${i % 2 === 0 ? "a" : "b"}` };
      const stored: RunnableConfig[] = [];
      for (const saver of savers) {
        stored.push(
          await saver.put(
            { configurable: { thread_id: threadId, checkpoint_ns: "", ...parent } },
            structuredClone(checkpoint),
            metadata,
            { x: i + 1 },
          ),
        );
      }
      configs.push(stored[0] as RunnableConfig);
    }
    return configs;
  }

  async function putWritesAll(savers: Saver[], config: RunnableConfig, writes: PendingWrite[], taskId: string) {
    for (const saver of savers) await saver.putWrites(config, writes, taskId);
  }

  async function expectSame(redis: RedisSaver, memory: MemorySaver, configs: RunnableConfig[], threadId?: string) {
    for (const config of configs) {
      const at = threadId ? { configurable: { ...config.configurable, thread_id: threadId } } : config;
      expect(view(await redis.getTuple(at))).toEqual(view(await memory.getTuple(config)));
      expect(await redis.getDeltaChannelHistory({ config: at, channels: ["x", "y"] })).toEqual(
        await memory.getDeltaChannelHistory({ config, channels: ["x", "y"] }),
      );
    }
    const first = configs[0]?.configurable?.thread_id;
    const listed = async (saver: Saver, thread: string) =>
      (await collect(saver.list({ configurable: { thread_id: thread } }))).map(view);
    expect(await listed(redis, threadId ?? first)).toEqual(await listed(memory, first));
  }

  it("puts writes into the stored record, or ahead of it until the put, and a writes-hash bundle stays there", async () => {
    const keyPrefix = testPrefix("rwplace");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const savers = [redis, memory];
    const [a] = await chain(savers, "t", 1);
    const a0 = a as RunnableConfig;
    await putWritesAll(savers, a0, [["x", 1]], "task-1");
    expect(await placeOf(keyPrefix, "t", a0)).toBe("record");
    // Writes that arrive before their checkpoint's put wait in the checkpoints hash as writes ahead: no checkpoint
    // for any reader, copied and counted as writes.
    const early = { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: uuid6(-1) } };
    await putWritesAll(savers, early, [["x", 2]], "task-2");
    const keys = saverThreadKeys(keyPrefix, "t");
    const earlyField = checkpointField("", early.configurable.checkpoint_id);
    expect(await placeOf(keyPrefix, "t", early)).toBe("record");
    expect((await storedRecord(client, keys.checkpoints, earlyField))?.record.length).toBe(0);
    expect(await redis.getTuple(early)).toBeUndefined();
    expect(await redis.getDeltaChannelHistory({ config: early, channels: ["x"] })).toEqual(
      await memory.getDeltaChannelHistory({ config: early, channels: ["x"] }),
    );
    await expectSame(redis, memory, [a0]);
    expect(await redis.copyThread("t", "t-copy")).toEqual({ checkpoints: 1 });
    expect(await client.hexists(saverThreadKeys(keyPrefix, "t-copy").checkpoints, earlyField)).toBe(1);
    expect(await redis.prune(["t-copy"], { strategy: "delete" })).toMatchObject({ checkpoints: 1, writes: 2 });
    // The put fills the record in; later writes join the same bundle.
    const checkpoint = makeCheckpoint({ x: 5 }, { x: 6 }, early.configurable.checkpoint_id);
    for (const saver of savers) {
      await saver.put(
        { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: a0.configurable?.checkpoint_id } },
        structuredClone(checkpoint),
        loopMetadata(1),
        { x: 6 },
      );
    }
    expect(await placeOf(keyPrefix, "t", early)).toBe("record");
    await putWritesAll(savers, early, [["y", 3]], "task-3");
    expect(await placeOf(keyPrefix, "t", early)).toBe("record");
    expect(await client.hlen(keys.writes)).toBe(0);
    await expectSame(redis, memory, [a0, early]);
    // `compression: false` writes ahead of a put go to the writes hash, as earlier releases stored them, and stay.
    const earlier = new RedisSaver({ client, keyPrefix, compression: false });
    const late = { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: uuid6(-1) } };
    await putWritesAll([earlier, memory], late, [["x", 4]], "task-4");
    expect(await placeOf(keyPrefix, "t", late)).toBe("hash");
    for (const saver of savers) {
      await saver.put(
        { configurable: { thread_id: "t", checkpoint_ns: "", checkpoint_id: early.configurable.checkpoint_id } },
        makeCheckpoint({ x: 7 }, { x: 8 }, late.configurable.checkpoint_id),
        loopMetadata(2),
        { x: 8 },
      );
    }
    await putWritesAll(savers, late, [["y", 5]], "task-5");
    expect(await placeOf(keyPrefix, "t", late)).toBe("hash");
    await expectSame(redis, memory, [a0, early, late]);
  });

  it("carries the record's writes over when a checkpoint is put again, and replaces a write in place", async () => {
    const keyPrefix = testPrefix("rwreput");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const savers = [redis, memory];
    const configs = await chain(savers, "t", 2);
    const [a, b] = configs as [RunnableConfig, RunnableConfig];
    await putWritesAll(
      savers,
      b,
      [
        ["x", "first"],
        ["y", "second"],
      ],
      "task-1",
    );
    await putWritesAll(savers, b, [["__error__", "boom"]], "task-2");
    // The same checkpoint put again, with other metadata (LangGraph does this): the writes stay with it.
    const again = makeCheckpoint({ x: 1 }, { x: 2 }, b.configurable?.checkpoint_id);
    for (const saver of savers) {
      await saver.put(
        { configurable: { ...a.configurable } },
        structuredClone(again),
        { ...loopMetadata(7), run_id: "t-b" } as CheckpointMetadata,
        { x: 2 },
      );
    }
    expect(await placeOf(keyPrefix, "t", b)).toBe("record");
    expect((await redis.getTuple(b))?.metadata?.step).toBe(7);
    expect((await redis.getTuple(b))?.pendingWrites).toHaveLength(3);
    await expectSame(redis, memory, configs);
    // Special writes replace where they are; a retried normal write is kept as first stored.
    await putWritesAll(savers, b, [["__error__", "boom again"]], "task-2");
    await putWritesAll(savers, b, [["x", "retried"]], "task-1");
    await expectSame(redis, memory, configs);
    // A replacement too large for the bundle moves to its own field beside the record's bundle.
    const large = randomBytes(6_000).toString("base64");
    await putWritesAll(savers, b, [["__error__", large]], "task-2");
    await putWritesAll(savers, b, [["x", randomBytes(5_000).toString("base64")]], "task-3");
    const keys = saverThreadKeys(keyPrefix, "t");
    expect((await client.zrange(keys.writesIndex, "0", "-1")).length).toBe(2);
    expect(await placeOf(keyPrefix, "t", b)).toBe("record");
    await expectSame(redis, memory, configs);
  });

  it("`compression: false` keeps the writes-hash layout; a thread that mixes both reads as MemorySaver", async () => {
    const keyPrefix = testPrefix("rwmix");
    const current = new RedisSaver({ client, keyPrefix });
    const earlier = new RedisSaver({ client, keyPrefix, compression: false });
    const memory = new MemorySaver();
    const configs = await chain([current, memory], "t", 4);
    for (const [i, config] of configs.entries()) {
      const writer = i % 2 === 0 ? earlier : current;
      await putWritesAll([writer, memory], config, [["x", `w${i}`]], "task-1");
      await putWritesAll([writer, memory], config, [["y", `v${i}`]], "task-2");
    }
    expect(await Promise.all(configs.map((config) => placeOf(keyPrefix, "t", config)))).toEqual([
      "hash",
      "record",
      "hash",
      "record",
    ]);
    // Either writer adds to a bundle where it is.
    await putWritesAll([current, memory], configs[0] as RunnableConfig, [["x", "late"]], "task-3");
    await putWritesAll([earlier, memory], configs[1] as RunnableConfig, [["x", "late"]], "task-3");
    expect(await placeOf(keyPrefix, "t", configs[0] as RunnableConfig)).toBe("hash");
    expect(await placeOf(keyPrefix, "t", configs[1] as RunnableConfig)).toBe("record");
    await expectSame(current, memory, configs);
    await expectSame(earlier, memory, configs);
  });

  it("prune, deleteForRuns, copyThread and deleteThread count and remove the writes records carry", async () => {
    const keyPrefix = testPrefix("rwcount");
    const redis = new RedisSaver({ client, keyPrefix, audit: true });
    const memory = new MemorySaver();
    const build = async (threadId: string) => {
      const configs = await chain([redis, memory], threadId, 4);
      for (const [i, config] of configs.entries()) {
        await putWritesAll(
          [redis, memory],
          config,
          [
            ["x", i],
            ["y", i],
          ],
          "task-1",
        );
      }
      // An overflow write beside the record's bundle on the first checkpoint.
      await putWritesAll(
        [redis, memory],
        configs[0] as RunnableConfig,
        [["x", randomBytes(6_000).toString("base64")]],
        "big",
      );
      return configs;
    };
    const configs = await build("t");
    // Copied as stored: the records with the writes they carry, counted in the audit event.
    expect(await redis.copyThread("t", "copy")).toEqual({ checkpoints: 4 });
    await expectSame(redis, memory, configs, "copy");
    const { events } = await readOutboxEvents(client, keyPrefix, { maxPerStream: 100 });
    expect(events.filter((e) => e.kind === "copy").map((e) => e.detail)).toEqual([
      expect.objectContaining({ checkpoints: 4, writes: 9 }),
    ]);
    // keepLast 2: the first two checkpoints go with their 2 + 1 and 2 writes.
    expect(await redis.prune(["t"], { keepLast: 2 })).toMatchObject({ checkpoints: 2, writes: 5 });
    expect(await client.exists(saverThreadKeys(keyPrefix, "t").writesIndex)).toBe(0);
    expect(view(await redis.getTuple(configs[3] as RunnableConfig))).toEqual(
      view(await memory.getTuple(configs[3] as RunnableConfig)),
    );
    // deleteForRuns: the copy's records name the source's runs. t-a put checkpoints 0 and 2 (2 + 1 and 2 writes in
    // the copy) and the source's kept checkpoint 2 (2 writes); t-b the copy's 1 and 3 and the source's 3.
    expect(await redis.deleteForRuns(["t-a"])).toMatchObject({ checkpoints: 3, writes: 7 });
    expect(await redis.deleteForRuns(["t-b"])).toMatchObject({ checkpoints: 3, writes: 6 });
    expect(await client.exists(...saverThreadKeys(keyPrefix, "copy").all)).toBe(0);
    // The "delete" strategy and deleteThread remove every key, records' writes included.
    await build("u");
    expect(await redis.prune(["u"], { strategy: "delete" })).toMatchObject({ checkpoints: 4, writes: 9 });
    expect(await client.exists(...saverThreadKeys(keyPrefix, "u").all)).toBe(0);
    await build("v");
    await redis.deleteThread("v");
    expect(await client.exists(...saverThreadKeys(keyPrefix, "v").all)).toBe(0);
  });

  it("the delete strategy counts the writes of a thread longer than one read of its values (1,000 fields)", async () => {
    const keyPrefix = testPrefix("rwl");
    const redis = new RedisSaver({ client, keyPrefix });
    const configs = await chain([redis], "long", 1_203);
    for (const config of configs) {
      await redis.putWrites(
        config,
        [
          ["x", 1],
          ["y", 2],
        ],
        "task-1",
      );
    }
    // Writes ahead of a checkpoint never put (a field of the records hash that is no checkpoint), and one overflow.
    const missing = { configurable: { ...configs[0]?.configurable, checkpoint_id: uuid6(-1) } };
    await redis.putWrites(missing, [["x", 3]], "task-2");
    await redis.putWrites(configs[5] as RunnableConfig, [["x", randomBytes(6_000).toString("base64")]], "big");
    const keys = saverThreadKeys(keyPrefix, "long");
    expect(await client.hlen(keys.checkpoints)).toBe(1_204);
    expect(await redis.prune(["long"], { strategy: "delete" })).toMatchObject({ checkpoints: 1_203, writes: 2_408 });
    expect(await client.exists(...keys.all)).toBe(0);
  });
});
