/**
 * The two forms of pending writes (src/lua/include/pendingWrites.lua): a checkpoint's bundle field, within a byte
 * limit, and one indexed field `ns\0id\0taskId\0idx` per write that does not fit, the form older releases stored
 * every write in. Threads of both kinds are read, written, pruned, copied and deleted by run through RedisSaver, with
 * MemorySaver, given the same calls, as the reference. Older releases' threads are written here with raw commands as
 * those releases wrote them, and are never converted.
 */
import { randomBytes } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver, type PendingWrite, uuid6, WRITES_IDX_MAP } from "@langchain/langgraph-checkpoint";
import { readOutboxEvents } from "../../src/audit/read-outbox.js";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField, escapePart, frame } from "../../src/saver/codec.js";
import { splitWriteBundle, unframeWrite } from "../../src/saver/write-frame.js";
import { targets, testPrefix } from "../helpers/redis.js";
import {
  collect,
  inputMetadata,
  loopMetadata,
  makeCheckpoint,
  storedBundle,
  storedRecord,
  tupleView,
} from "./saver-helpers.js";

type Saver = RedisSaver | MemorySaver;

describe.each(targets)("pending writes: bundle and overflow ($name)", ({ connect }) => {
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
      expect(tupleView(await redis.getTuple(config))).toEqual(tupleView(await memory.getTuple(config)));
      expect(await redis.getDeltaChannelHistory({ config, channels: ["x", "y"] })).toEqual(
        await memory.getDeltaChannelHistory({ config, channels: ["x", "y"] }),
      );
    }
    const threadId = configs[0]?.configurable?.thread_id;
    for (const ns of ["", "sub"]) {
      const listed = async (saver: Saver) =>
        (await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: ns } }))).map(tupleView);
      expect(await listed(redis)).toEqual(await listed(memory));
    }
  }

  /**
   * The overflow fields of a thread, sorted, its writes fields, the checkpoints whose bundle is in the writes hash
   * (hashBundles), those whose record carries it (recordBundles), and both (bundles).
   */
  async function layout(keyPrefix: string, threadId: string) {
    const keys = saverThreadKeys(keyPrefix, threadId);
    const members = await client.zrange(keys.writesIndex, "0", "-1");
    const fields = (await client.hkeys(keys.writes)).sort();
    const hashBundles = fields.filter((field) => field.split("\0").length === 2);
    const recordBundles: string[] = [];
    for (const field of (await client.hkeys(keys.checkpoints)).sort()) {
      if ((await storedRecord(client, keys.checkpoints, field))?.bundle) recordBundles.push(field);
    }
    // A checkpoint's bundle is in one place only.
    expect(hashBundles.filter((field) => recordBundles.includes(field))).toEqual([]);
    return { members, fields, hashBundles, recordBundles, bundles: [...hashBundles, ...recordBundles].sort() };
  }

  it("reads an earlier release's thread as it is, and writes to it without converting it", async () => {
    const keyPrefix = testPrefix("pwold");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await oldThread(redis, memory, "t");
    const keys = saverThreadKeys(keyPrefix, "t");
    const old = await layout(keyPrefix, "t");
    expect(old.fields).toHaveLength(6);
    expect(old.members).toEqual([...old.fields].sort());
    await expectSameReads(redis, memory, configs);

    // On the checkpoint of older writes: task-2 retried (its first attempt's write stays, in its own field), task-1's
    // error replaced where it is, and a new task, which goes into a new bundle.
    const [a] = configs as [RunnableConfig];
    const before = await client.hgetallBuffer(keys.writes);
    for (const saver of [redis, memory] as Saver[]) {
      await saver.putWrites(a, [["x", 99]], "task-2");
      await saver.putWrites(a, [["__error__", "boom again"]], "task-1");
      await saver.putWrites(a, [["x", 12]], "task-0");
    }
    const now = await layout(keyPrefix, "t");
    expect(now.members).toEqual(old.members);
    const bundleField = checkpointField("", a.configurable?.checkpoint_id);
    expect(now.bundles).toEqual([bundleField]);
    const after = await client.hgetallBuffer(keys.writes);
    const errorField = `${bundleField}\0task-1\0${WRITES_IDX_MAP.__error__}`;
    for (const field of old.fields) {
      if (field === errorField) expect(after[field]).not.toEqual(before[field]);
      else expect(after[field]).toEqual(before[field]);
    }
    await expectSameReads(redis, memory, configs);

    // A put on the thread converts nothing either.
    const last = configs[2] as RunnableConfig;
    const next: RunnableConfig[] = [];
    const checkpoint = makeCheckpoint({ x: 9 }, { x: 9 });
    for (const saver of [redis, memory] as Saver[]) {
      next.push(await saver.put(last, structuredClone(checkpoint), loopMetadata(2), { x: 9 }));
    }
    expect(await layout(keyPrefix, "t")).toEqual(now);
    await expectSameReads(redis, memory, [...configs, next[0] as RunnableConfig]);
  });

  it("keeps the first writes of a checkpoint in its bundle and the rest, or a write too large, in their own fields", async () => {
    const keyPrefix = testPrefix("pwmix");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const config = { configurable: { thread_id: "t", checkpoint_ns: "" } };
    const ids = [uuid6(-1), uuid6(-1)];
    const configs: RunnableConfig[] = [];
    for (const [i, id] of ids.entries()) {
      const parent = configs[i - 1]?.configurable;
      const stored: RunnableConfig[] = [];
      for (const saver of [redis, memory] as Saver[]) {
        stored.push(
          await saver.put(
            { configurable: { ...config.configurable, ...parent } },
            makeCheckpoint({ x: i }, { x: i + 1 }, id),
            loopMetadata(i),
            { x: i + 1 },
          ),
        );
      }
      configs.push(stored[0] as RunnableConfig);
    }
    const [a, b] = configs as [RunnableConfig, RunnableConfig];
    // Incompressible: stays larger than the bundle limit once compressed.
    const large = randomBytes(6_000).toString("base64");
    const calls: [RunnableConfig, PendingWrite[], string][] = [
      // An ordinary step: a message and a branch write.
      [
        a,
        [
          ["x", { role: "ai", content: "hello ".repeat(40) }],
          ["branch:to:agent", null],
        ],
        "step-task",
      ],
      // A fan-out: 60 tasks with a write of about 200 bytes each, past the bundle's limit.
      ...Array.from({ length: 60 }, (_, i): [RunnableConfig, PendingWrite[], string] => [
        a,
        [["x", `task ${i} `.repeat(20)]],
        `fan-${String(i).padStart(2, "0")}`,
      ]),
      // A single write larger than the limit, on a checkpoint with an empty bundle.
      [
        b,
        [
          ["x", large],
          ["y", "small"],
        ],
        "big",
      ],
      // Retried tasks in both forms (kept as first stored) and replaced errors in both forms.
      [a, [["x", "retry"]], "step-task"],
      [a, [["x", "retry"]], "fan-59"],
      [a, [["__error__", "first"]], "fan-00"],
      [a, [["__error__", "first"]], "fan-59"],
      [a, [["__error__", "second"]], "fan-00"],
      [a, [["__error__", "second"]], "fan-59"],
      [b, [["x", "retry"]], "big"],
    ];
    for (const [target, writes, taskId] of calls) {
      for (const saver of [redis, memory] as Saver[]) await saver.putWrites(target, writes, taskId);
    }
    const { members, bundles } = await layout(keyPrefix, "t");
    const fieldA = checkpointField("", a.configurable?.checkpoint_id);
    const fieldB = checkpointField("", b.configurable?.checkpoint_id);
    expect(bundles).toEqual([fieldA, fieldB].sort());
    // The step's writes are in a's bundle; the fan-out's last tasks and b's large write in their own fields.
    expect(members).toContain(`${fieldA}\0fan-59\0${0}`);
    expect(members).not.toContain(`${fieldA}\0step-task\0${0}`);
    expect(members.filter((m) => m.startsWith(fieldB))).toEqual([`${fieldB}\0big\0${0}`]);
    const keys = saverThreadKeys(keyPrefix, "t");
    // fan-59's error (small) is in one form only: the bundle's tail if it had room, else its own field.
    expect(await layout(keyPrefix, "t")).toMatchObject({ hashBundles: [], recordBundles: [fieldA, fieldB].sort() });
    const inBundle = splitWriteBundle((await storedBundle(client, keys, fieldA)) as Buffer).map((write) =>
      unframeWrite(write, { key: keys.writes, what: "a bundled write" }),
    );
    const errorsInBundle = inBundle.filter((w) => w.taskId === "fan-59" && w.idx === WRITES_IDX_MAP.__error__);
    const errorField = `${fieldA}\0fan-59\0${WRITES_IDX_MAP.__error__}`;
    expect(errorsInBundle.length + (members.includes(errorField) ? 1 : 0)).toBe(1);
    expect((await storedBundle(client, keys, fieldA))?.length).toBeLessThanOrEqual(4096);
    await expectSameReads(redis, memory, configs);
    const tuple = await redis.getTuple(a);
    expect(tuple?.pendingWrites).toHaveLength(2 + 60 + 2);

    // Copied as stored: bundles and overflow fields with their index.
    expect(await redis.copyThread("t", "copy")).toEqual({ checkpoints: 2 });
    const copied = await layout(keyPrefix, "copy");
    expect(copied.members).toEqual(members.map((m) => m));
    expect(copied.bundles).toEqual(bundles);
    for (const c of configs) {
      const copy = { configurable: { ...c.configurable, thread_id: "copy" } };
      expect(tupleView(await redis.getTuple(copy))).toEqual(tupleView(await memory.getTuple(c)));
    }
    // Pruned to b: a's writes go in both forms; b's stay.
    expect(await redis.prune(["t"], { keepLast: 1 })).toMatchObject({ checkpoints: 1, writes: 2 + 60 + 2 });
    const pruned = await layout(keyPrefix, "t");
    expect(pruned.bundles).toEqual([fieldB]);
    expect(pruned.members).toEqual([`${fieldB}\0big\0${0}`]);
    expect(tupleView(await redis.getTuple(b))).toEqual(tupleView(await memory.getTuple(b)));
  });

  it("copyThread copies an earlier release's thread as it is and leaves the source as it was", async () => {
    const keyPrefix = testPrefix("pwcopy");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await oldThread(redis, memory, "from");
    const source = await layout(keyPrefix, "from");
    expect(await redis.copyThread("from", "to")).toEqual({ checkpoints: 4 });
    expect(await layout(keyPrefix, "to")).toEqual(source);
    expect(await layout(keyPrefix, "from")).toEqual(source);
    for (const config of configs) {
      const copied = { configurable: { ...config.configurable, thread_id: "to" } };
      expect(tupleView(await redis.getTuple(copied))).toEqual(tupleView(await memory.getTuple(config)));
    }
  });

  it("prune and deleteForRuns remove an earlier release's writes with their checkpoints and count them", async () => {
    const keyPrefix = testPrefix("pwprune");
    const redis = new RedisSaver({ client, keyPrefix });
    const configs = await oldThread(redis, new MemorySaver(), "t");
    const keys = saverThreadKeys(keyPrefix, "t");
    // keepLast 1: a (4 writes) and b (1 write) go; c and the subgraph's checkpoint stay.
    expect(await redis.prune(["t"], { keepLast: 1 })).toMatchObject({ checkpoints: 2, writes: 5 });
    const subField = `${checkpointField("sub", configs[3]?.configurable?.checkpoint_id)}\0task-4\0${0}`;
    expect(await client.hkeys(keys.writes)).toEqual([subField]);
    expect(await client.zrange(keys.writesIndex, "0", "-1")).toEqual([subField]);
    expect((await redis.getTuple(configs[3] as RunnableConfig))?.pendingWrites).toEqual([["task-4", "x", 30]]);

    // deleteForRuns on a thread with both forms: a new task's write on a goes into a bundle beside the old fields.
    const other = new RedisSaver({ client, keyPrefix: testPrefix("pwrun") });
    const otherConfigs = await oldThread(other, new MemorySaver(), "t");
    await other.putWrites(otherConfigs[0] as RunnableConfig, [["x", 1]], "task-new");
    expect(await other.deleteForRuns(["run-root"])).toMatchObject({ checkpoints: 3, writes: 6 });
    expect(await other.deleteForRuns(["run-sub"])).toMatchObject({ checkpoints: 1, writes: 1 });
    expect(await client.exists(...saverThreadKeys(other.keyPrefix, "t").all)).toBe(0);
  });

  it("copyThread's audit event counts the writes copied in both forms", async () => {
    const keyPrefix = testPrefix("pwaudit");
    const redis = new RedisSaver({ client, keyPrefix, audit: true });
    const config = await redis.put(
      { configurable: { thread_id: "from", checkpoint_ns: "" } },
      makeCheckpoint({ x: 1 }, { x: 2 }),
      loopMetadata(0),
      { x: 2 },
    );
    await redis.putWrites(
      config,
      [
        ["x", 1],
        ["y", 2],
      ],
      "task-a",
    );
    await redis.putWrites(config, [["x", randomBytes(6_000).toString("base64")]], "task-b");
    const keys = saverThreadKeys(keyPrefix, "from");
    // task-a's writes in the record's bundle, task-b's in overflow.
    expect(await client.hlen(keys.writes)).toBe(1);
    expect(await client.zcard(keys.writesIndex)).toBe(1);
    expect(await layout(keyPrefix, "from")).toMatchObject({
      recordBundles: [checkpointField("", config.configurable?.checkpoint_id)],
    });
    expect(await redis.copyThread("from", "to")).toEqual({ checkpoints: 1 });
    const { events } = await readOutboxEvents(client, keyPrefix, { maxPerStream: 100 });
    const copy = events.filter((event) => event.kind === "copy");
    expect(copy.map((event) => event.detail)).toEqual([expect.objectContaining({ checkpoints: 1, writes: 3 })]);
  });
});
