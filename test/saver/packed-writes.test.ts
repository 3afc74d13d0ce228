/**
 * Pending writes as PACKED_WRITE frames (src/saver/write-frame.ts): the frame's round trip, bundles that mix it with
 * the frames of earlier releases (a write that repeats its predecessor's task given it back on reading and when its
 * predecessor is replaced or moved out), and the same reads as MemorySaver when savers that write either form share
 * one thread.
 */
import { randomBytes } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  DeltaSnapshot,
  emptyCheckpoint,
  MemorySaver,
  type PendingWrite,
  uuid6,
  WRITES_IDX_MAP,
} from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import type { RedisClient } from "../../src/client.js";
import { CorruptCheckpointError, RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { checkpointField, FrameFormat, frame } from "../../src/saver/codec.js";
import {
  PackedWriteFlag,
  packWrite,
  splitWriteBundle,
  unframeWrite,
  writeChannel,
} from "../../src/saver/write-frame.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { storedBundle } from "./saver-helpers.js";

const source = { key: "writes", what: "a pending write" };

interface Write {
  taskId: string;
  channel: string;
  type: string;
  value: Uint8Array;
  taskPath: string;
  idx: number;
  deflated: boolean;
}

const packed = (w: Write) => packWrite(w.taskId, w.channel, w.type, w.value, w.taskPath, w.idx, w.deflated);
const legacy = (w: Write) =>
  frame(
    [w.taskId, w.channel, w.type, w.value, w.taskPath, String(w.idx)],
    w.deflated ? FrameFormat.DEFLATED : FrameFormat.PLAIN,
  );

/** A bundle entry: a PACKED_WRITE frame after its varint length, another after its 4-byte length. */
function entry(write: Buffer): Buffer {
  if (write[0] !== FrameFormat.PACKED_WRITE) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(write.length);
    return Buffer.concat([length, write]);
  }
  const bytes: number[] = [];
  let n = write.length;
  for (; n >= 128; n = Math.floor(n / 128)) bytes.push((n % 128) + 128);
  bytes.push(n);
  return Buffer.concat([Buffer.from(bytes), write]);
}

/** A packed frame with its task part left out and SAME_TASK set, as the script stores a repeat. */
function repeating(write: Buffer): Buffer {
  const taskLength = write[2] as number; // task ids below 128 bytes in these tests
  const pathCode = write[3 + taskLength] as number; // paths below 32 bytes
  const end = 4 + taskLength + Math.floor(pathCode / 4);
  return Buffer.concat([Buffer.from([FrameFormat.PACKED_WRITE, (write[1] as number) | 2]), write.subarray(end)]);
}

const decoded = (w: Write) => ({
  taskId: w.taskId,
  channel: w.channel,
  type: Buffer.from(w.type, "utf8"),
  stored: Buffer.from(w.value),
  deflated: w.deflated,
  taskPath: w.taskPath,
  idx: w.idx,
});

const writeArbitrary = fc.record({
  taskId: fc.oneof(fc.uuid(), fc.string({ unit: "grapheme", maxLength: 200 })),
  channel: fc.oneof(fc.constantFrom("messages", "__error__", "branch:to:reply"), fc.string({ unit: "grapheme" })),
  type: fc.constantFrom("json", "jt1", "bytes", ""),
  value: fc.uint8Array({ maxLength: 400 }),
  taskPath: fc.oneof(
    fc.constantFrom("", "~__pregel_pull, ", "~__pregel_pull, reply", "~__pregel_push, 3, false", "~__pregel_pul"),
    fc.string({ unit: "grapheme", maxLength: 300 }),
    fc.string({ unit: "grapheme" }).map((tail) => `~__pregel_push, ${tail}`),
  ),
  idx: fc.oneof(fc.integer({ min: -4, max: 3 }), fc.integer({ min: 0, max: 2 ** 53 - 1 })),
  deflated: fc.boolean(),
});

describe("PACKED_WRITE frames", () => {
  it("round-trip any write (unicode ids, channels and paths, empty values, large idx) as the legacy frame does", () => {
    fc.assert(
      fc.property(writeArbitrary, (write) => {
        const framed = packed(write);
        expect(framed[0]).toBe(FrameFormat.PACKED_WRITE);
        expect(unframeWrite(framed, source)).toEqual(decoded(write));
        expect(unframeWrite(legacy(write), source)).toEqual(decoded(write));
        expect(writeChannel(framed)).toBe(write.channel);
        expect(writeChannel(legacy(write))).toBe(write.channel);
      }),
      { numRuns: 500 },
    );
  });

  it("is smaller than the legacy frame, by the lengths and LangGraph's path prefix", () => {
    const write: Write = {
      taskId: "78bcc5aa-1f0e-5e3b-9a51-0c3bd0b3f2a1",
      channel: "messages",
      type: "jt1",
      value: Buffer.alloc(200, 120),
      taskPath: "~__pregel_pull, __start__",
      idx: 0,
      deflated: false,
    };
    // 6 lengths of 4 bytes become 1 each, and the 16-byte prefix a number within the path's length.
    expect(legacy(write).length - packed(write).length).toBe(6 * 3 + 16);
  });

  it("splits a bundle that mixes both frames into writes that stand alone, giving repeats their task back", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(writeArbitrary, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 8 }),
        (list) => {
          // Each write: legacy or packed; a packed one after a packed one may repeat its task (as the script stores
          // one call's writes), with the task id and path of its predecessor.
          const writes: Write[] = [];
          const entries: Buffer[] = [];
          let previous: Write | undefined;
          for (const [generated, asLegacy, repeat] of list) {
            const shortTask = previous && repeat && previous.taskId.length < 40 && previous.taskPath.length < 8;
            const write =
              shortTask && previous
                ? { ...generated, taskId: previous.taskId, taskPath: previous.taskPath }
                : generated;
            if (asLegacy) {
              entries.push(entry(legacy(write)));
              previous = undefined;
            } else {
              const framed = packed(write);
              const small = Buffer.byteLength(write.taskId) < 128 && Buffer.byteLength(write.taskPath) < 32;
              entries.push(entry(shortTask && small ? repeating(framed) : framed));
              previous = write;
            }
            writes.push(write);
          }
          const split = splitWriteBundle(Buffer.concat(entries));
          expect(split.map((write) => unframeWrite(write, source))).toEqual(writes.map(decoded));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reports a write that repeats a task no write before it states, unknown flags and cut parts as corrupt", () => {
    const write: Write = {
      taskId: "task",
      channel: "c",
      type: "json",
      value: Buffer.from("1"),
      taskPath: "",
      idx: 0,
      deflated: false,
    };
    const framed = packed(write);
    // First in its bundle, or after a legacy frame: nothing to repeat.
    for (const bundle of [entry(repeating(framed)), Buffer.concat([entry(legacy(write)), entry(repeating(framed))])]) {
      const split = splitWriteBundle(bundle);
      expect(() => split.map((value) => unframeWrite(value, source))).toThrow(CorruptCheckpointError);
    }
    expect(() => unframeWrite(Buffer.from([FrameFormat.PACKED_WRITE, 4, ...framed.subarray(2)]), source)).toThrow(
      /unknown flags 4/,
    );
    for (let cut = 1; cut < framed.length - 1; cut++) {
      expect(() => unframeWrite(framed.subarray(0, cut), source)).toThrow(CorruptCheckpointError);
    }
    // A bundle cut inside an entry: the whole entries, then the rest as one value that is no frame.
    const bundle = Buffer.concat([entry(framed), entry(framed)]);
    const split = splitWriteBundle(bundle.subarray(0, bundle.length - 3));
    expect(split).toHaveLength(2);
    expect(split[0]).toEqual(framed);
    expect(() => unframeWrite(split[1] as Buffer, source)).toThrow(CorruptCheckpointError);
    expect(PackedWriteFlag.SAME_TASK).toBe(2);
  });
});

type Saver = RedisSaver | MemorySaver;

describe.each(targets)("PACKED_WRITE frames in Redis ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  async function chain(savers: Saver[], threadId: string, length: number): Promise<RunnableConfig[]> {
    const configs: RunnableConfig[] = [];
    const ids = Array.from({ length }, (_, i) => uuid6(i));
    for (const [s, saver] of savers.entries()) {
      let parent: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      for (let i = 0; i < length; i++) {
        const checkpoint = {
          ...emptyCheckpoint(),
          id: ids[i] as string,
          channel_values: {} as Record<string, unknown>,
        };
        if (i === 0) checkpoint.channel_values.m = new DeltaSnapshot([]);
        checkpoint.channel_versions = { m: i + 1 };
        parent = await saver.put(parent, checkpoint, { source: "loop", step: i, parents: {} }, { m: i + 1 });
        if (s === 0) configs.push(parent);
      }
    }
    return configs;
  }

  it("stores one task's writes with the task once; a repeat gets its task back when its predecessor goes", async () => {
    const keyPrefix = testPrefix("pkw");
    const redis = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const [config] = (await chain([redis, memory], "t", 1)) as [RunnableConfig];
    const keys = saverThreadKeys(keyPrefix, "t");
    const field = checkpointField("", config.configurable?.checkpoint_id);
    const path = "~__pregel_pull, agent";
    const both = async (writes: PendingWrite[], taskId: string) => {
      for (const saver of [redis, memory] as Saver[]) await saver.putWrites(config, writes, taskId, path);
      expect((await redis.getTuple(config))?.pendingWrites).toEqual((await memory.getTuple(config))?.pendingWrites);
    };
    const taskId = "5b0c1e9e-2b3a-5c8e-9d4f-7a1b2c3d4e5f";
    const erring = "9f1d2c3b-4a5e-5f60-8172-93a4b5c6d7e8";
    // The bundle lives in the checkpoint's record (its writes hash field stays absent).
    const stored = async () => (await storedBundle(client, keys, field)) as Buffer;
    const occurrences = async (id: string) => {
      const bytes = await stored();
      let count = 0;
      for (let at = bytes.indexOf(id); at >= 0; at = bytes.indexOf(id, at + 1)) count++;
      return count;
    };
    // Two writes of one call: the task id stored once.
    await both(
      [
        ["m", "a"],
        ["branch:to:x", null],
      ],
      taskId,
    );
    expect(await occurrences(taskId)).toBe(1);
    const first = await stored();
    // Retried: nothing changes (normal writes are kept as first stored).
    await both([["m", "retry"]], taskId);
    expect(await stored()).toEqual(first);
    // An error write, then a normal one of the same call (it repeats the error's task).
    await both(
      [
        ["__error__", "first"],
        ["m", "b"],
      ],
      erring,
    );
    expect(await occurrences(erring)).toBe(1);
    // The error replaced in place: the write after it states the task again.
    await both([["__error__", "second"]], erring);
    expect(await occurrences(erring)).toBe(2);
    // Another task appends after; replacing the error with one too large for the bundle moves it out.
    await both([["m", "other"]], "other-task");
    await both([["__error__", randomBytes(6000).toString("base64")]], erring);
    expect(await client.zrange(keys.writesIndex, "0", "-1")).toEqual([
      `${field}\0${erring}\0${WRITES_IDX_MAP.__error__}`,
    ]);
    expect(await occurrences(erring)).toBe(1);
    expect(splitWriteBundle(await stored()).map((w) => unframeWrite(w, source).channel)).toEqual([
      "m",
      "branch:to:x",
      "m",
      "m",
    ]);
    // A task id of 128 bytes or more: its length takes two varint bytes, and the script still finds its writes.
    const long = `t\u00e9${"x".repeat(150)}`;
    await both(
      [
        ["__error__", "first"],
        ["m", "c"],
      ],
      long,
    );
    await both([["m", "retry"]], long);
    await both([["__error__", "second"]], long);
    await both(
      [
        ["x", "retry"],
        ["m", "kept"],
      ],
      long,
    );
    // Stated by the error (replaced), the write after it (given its task back) and the idx-0 write of the second call.
    expect(await occurrences(long)).toBe(3);
  });

  it("reads, extends, replaces in, prunes and copies a bundle that an earlier release started", async () => {
    const keyPrefix = testPrefix("pkm");
    const packedSaver = new RedisSaver({ client, keyPrefix });
    const memory = new MemorySaver();
    const configs = await chain([packedSaver, memory], "mix", 3);
    const keys = saverThreadKeys(keyPrefix, "mix");
    // The first checkpoint's bundle as an earlier release stored it: 4-byte lengths, PLAIN frames.
    const a = configs[0] as RunnableConfig;
    const old: Write[] = [
      { taskId: "t1", channel: "m", type: "json", value: Buffer.from('"o1"'), taskPath: "", idx: 0, deflated: false },
      {
        taskId: "t1",
        channel: "__error__",
        type: "json",
        value: Buffer.from('"e"'),
        taskPath: "",
        idx: -1,
        deflated: false,
      },
      { taskId: "t2", channel: "m", type: "json", value: Buffer.from('"o2"'), taskPath: "p", idx: 0, deflated: false },
    ];
    await client.hset(
      keys.writes,
      checkpointField("", a.configurable?.checkpoint_id),
      Buffer.concat(old.map((w) => entry(legacy(w)))),
    );
    await memory.putWrites(a, [["m", "o1"]], "t1");
    await memory.putWrites(a, [["__error__", "e"]], "t1");
    await memory.putWrites(a, [["m", "o2"]], "t2", "p");
    // Histories read by a saver that holds none: the writes below go to checkpoints that have children, which a
    // held history does not see (docs/checkpointer.md, "Loading a thread again").
    const reader = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    const same = async () => {
      for (const config of configs) {
        const [r, m] = [await packedSaver.getTuple(config), await memory.getTuple(config)];
        expect(r?.pendingWrites).toEqual(m?.pendingWrites);
        expect(await reader.getDeltaChannelHistory({ config, channels: ["m"] })).toEqual(
          await memory.getDeltaChannelHistory({ config, channels: ["m"] }),
        );
      }
    };
    await same();
    // New writes appended as packed frames after the old ones; old writes retried stay, the old error is replaced.
    const calls: [RunnableConfig, PendingWrite[], string, string][] = [
      [
        a,
        [
          ["m", "n1"],
          ["m", "n2"],
        ],
        "t3",
        "~__pregel_push, 0",
      ],
      [a, [["m", "retry"]], "t1", ""],
      [a, [["__error__", "replaced"]], "t1", ""],
      [
        configs[1] as RunnableConfig,
        [
          ["m", "b1"],
          ["__interrupt__", "i"],
        ],
        "t4",
        "~__pregel_pull, b",
      ],
    ];
    for (const [config, writes, taskId, path] of calls) {
      for (const saver of [packedSaver, memory] as Saver[]) await saver.putWrites(config, writes, taskId, path);
    }
    const bundle = (await client.hgetBuffer(keys.writes, checkpointField("", a.configurable?.checkpoint_id))) as Buffer;
    // The replaced error (second) is a packed frame now, in its place.
    expect(splitWriteBundle(bundle).map((w) => w[0])).toEqual([1, 7, 1, 7, 7]);
    await same();
    // Copied as stored; pruned and counted in both forms.
    expect(await packedSaver.copyThread("mix", "mix-copy")).toEqual({ checkpoints: 3 });
    const copyKeys = saverThreadKeys(keyPrefix, "mix-copy");
    expect(await client.hgetallBuffer(copyKeys.writes)).toEqual(await client.hgetallBuffer(keys.writes));
    expect(await packedSaver.prune(["mix"], { keepLast: 1 })).toMatchObject({ checkpoints: 2, writes: 5 + 2 });
  });

  it("gives the same reads as MemorySaver whatever mix of savers wrote a thread's writes (randomized)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            checkpoint: fc.integer({ min: 0, max: 2 }),
            saver: fc.integer({ min: 0, max: 2 }),
            task: fc.constantFrom("a", "b", "5b0c1e9e-2b3a-5c8e-9d4f-7a1b2c3d4e5f"),
            path: fc.constantFrom("", "~__pregel_pull, n", "~__pregel_push, 1, false"),
            writes: fc.array(
              fc.tuple(
                fc.constantFrom("m", "x", "__error__", "__interrupt__", "__resume__", "__scheduled__"),
                fc.oneof(
                  fc.string({ maxLength: 20 }),
                  fc.integer({ min: 100, max: 2500 }).map((n) => "v".repeat(n)),
                ),
              ),
              { minLength: 1, maxLength: 4 },
            ),
          }),
          { minLength: 1, maxLength: 14 },
        ),
        async (calls) => {
          const keyPrefix = testPrefix("pkr");
          // Packed, legacy (compression: false) and packed with compression, writing to the same thread.
          const savers = [
            new RedisSaver({ client, keyPrefix }),
            new RedisSaver({ client, keyPrefix, compression: false }),
            new RedisSaver({ client, keyPrefix, compression: { minBytes: 64 } }),
          ];
          const memory = new MemorySaver();
          const configs = await chain([savers[0] as RedisSaver, memory], "r", 3);
          for (const call of calls) {
            const config = configs[call.checkpoint] as RunnableConfig;
            const writes = call.writes as PendingWrite[];
            await (savers[call.saver] as RedisSaver).putWrites(config, writes, call.task, call.path);
            await memory.putWrites(config, writes, call.task, call.path);
          }
          for (const config of configs) {
            expect((await savers[0]?.getTuple(config))?.pendingWrites).toEqual(
              (await memory.getTuple(config))?.pendingWrites,
            );
          }
          const latest = configs[2] as RunnableConfig;
          expect(await savers[1]?.getDeltaChannelHistory({ config: latest, channels: ["m", "x"] })).toEqual(
            await memory.getDeltaChannelHistory({ config: latest, channels: ["m", "x"] }),
          );
          const total = (await memory.getTuple(configs[0] as RunnableConfig))?.pendingWrites?.length ?? 0;
          expect(await savers[0]?.prune(["r"], { keepLast: 2 })).toMatchObject({ checkpoints: 1, writes: total });
        },
      ),
      { numRuns: 40 },
    );
  });
});
