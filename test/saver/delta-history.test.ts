/**
 * getDeltaChannelHistory: equal to MemorySaver's over random histories (forks, namespaces, snapshot, plain and
 * missing seeds, concurrent tasks), paged on long chains, and read with one command per page (MONITOR).
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  Annotation,
  DeltaChannel,
  END,
  MemorySaver,
  messagesDeltaReducer,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { type BaseCheckpointSaver, DeltaSnapshot, emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { startMonitor } from "../../scripts/monitor.js";
import { isCluster, type RedisClient } from "../../src/client.js";
import {
  CorruptCheckpointError,
  DecompressionLimitError,
  InvalidConfigError,
  InvalidInputError,
  RedisSaver,
} from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { DELTA_HISTORY_PAGE_BYTES, DELTA_HISTORY_PAGE_CHECKPOINTS } from "../../src/saver/delta-history-pages.js";
import { keySlot } from "../../src/slot.js";
import { commandsFor, newRedis, targets, testPrefix } from "../helpers/redis.js";
import { deltaReplyGraph } from "./delta-graph.js";
import { CHANNELS, randomHistory } from "./random-history.js";
import { storedRecord, storedWriteValues, wrapRecord } from "./saver-helpers.js";

describe.each(targets)("RedisSaver.getDeltaChannelHistory ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });

  it("returns what MemorySaver returns for every checkpoint of random histories", async () => {
    let seeds = 0;
    let writes = 0;
    for (const seed of [1, 2, 3, 4]) {
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("dh") });
      const memory = new MemorySaver();
      const stored = await randomHistory([redis, memory], "thread", seed, 40);
      const wanted = [...CHANNELS, "never-written"];
      const configs = [
        ...stored.map((s) => s.config),
        { configurable: { thread_id: "thread" } },
        { configurable: { thread_id: "thread", checkpoint_ns: "child:1" } },
        { configurable: { thread_id: "thread", checkpoint_id: uuid6(999) } },
      ];
      for (const config of configs) {
        const expected = await memory.getDeltaChannelHistory({ config, channels: wanted });
        const actual = await redis.getDeltaChannelHistory({ config, channels: wanted });
        expect(actual, `seed ${seed}, ${JSON.stringify(config.configurable)}`).toEqual(expected);
        for (const entry of Object.values(actual)) {
          if ("seed" in entry) seeds++;
          writes += entry.writes.length;
        }
      }
      expect(await redis.getDeltaChannelHistory({ config: configs[0] as RunnableConfig, channels: [] })).toEqual({});
    }
    // The histories exercised both halves of the answer.
    expect(seeds).toBeGreaterThan(20);
    expect(writes).toBeGreaterThan(100);
  });

  it("pages a chain longer than one page and returns every write in order", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhp") });
    const length = DELTA_HISTORY_PAGE_CHECKPOINTS * 2 + 7;
    const configs = await writeChain(saver, "long", length);
    const history = await saver.getDeltaChannelHistory({ config: configs.at(-1) as RunnableConfig, channels: ["m"] });
    expect(history.m?.seed).toEqual(new DeltaSnapshot(["seed"]));
    expect(history.m?.writes.map((w) => w[2])).toEqual(Array.from({ length: length - 1 }, (_, i) => i));
  });

  it("rebuilds a DeltaChannel graph's state as MemorySaver does, across snapshots", async () => {
    const makeGraph = (checkpointer: BaseCheckpointSaver) => deltaReplyGraph(checkpointer, 7);
    const redis = makeGraph(new RedisSaver({ client, keyPrefix: testPrefix("dhg") }));
    const memory = makeGraph(new MemorySaver());
    const config = { configurable: { thread_id: "chat" } };
    for (let turn = 0; turn < 12; turn++) {
      const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] };
      await redis.invoke(input, config);
      await memory.invoke(input, config);
    }
    const [actual, expected] = await Promise.all([redis.getState(config), memory.getState(config)]);
    expect(actual.values.messages).toHaveLength(24);
    expect(actual.values).toEqual(expected.values);
    // Every earlier state too (time travel reads through the same walk).
    const history = [];
    for await (const state of redis.getStateHistory(config)) history.push(state.values);
    const memoryHistory = [];
    for await (const state of memory.getStateHistory(config)) memoryHistory.push(state.values);
    expect(history).toEqual(memoryHistory);
  });

  it("returns only the walked channels' writes of a shared step, overflow writes included, as MemorySaver does", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("dhs") });
    const memory = new MemorySaver();
    const configs = await sharedChain([redis, memory], "shared");
    const keys = saverThreadKeys(redis.keyPrefix, "shared");
    // The step on configs[1] keeps one write in overflow (too large for its bundle).
    expect(await client.exists(keys.writesIndex)).toBe(1);
    for (const config of configs) {
      for (const channels of [["m"], ["other"], ["m", "other"], ["other", "m", "absent"]]) {
        const expected = await memory.getDeltaChannelHistory({ config, channels });
        expect(await redis.getDeltaChannelHistory({ config, channels }), channels.join()).toEqual(expected);
      }
    }
    const history = await redis.getDeltaChannelHistory({ config: configs.at(-1) as RunnableConfig, channels: ["m"] });
    expect(history.m?.writes.map(([, , value]) => value)).toEqual(["s0", "a", "b", "after"]);
  });

  it("keeps each ancestor's walked writes across pages, closing a channel at its seed mid-page (bundles that mix channels, overflow and compressed writes)", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("dhm"), compression: { minBytes: 64 } });
    const memory = new MemorySaver();
    const length = DELTA_HISTORY_PAGE_CHECKPOINTS + 9;
    const configs = await mixedChain([redis, memory], "mixed", length);
    // Some writes went to overflow (too large for the bundle) and some were stored compressed.
    const keys = saverThreadKeys(redis.keyPrefix, "mixed");
    expect(await client.exists(keys.writesIndex)).toBe(1);
    const stored = await storedWriteValues(client, keys);
    // A compressed PACKED_WRITE frame: format 7, flags 1 (deflated), then the task id "task" after its length.
    expect(stored.some((value) => value.includes(Buffer.from([7, 1, 4, ...Buffer.from("task")])))).toBe(true);
    const latest = configs.at(-1) as RunnableConfig;
    for (const channels of [["m"], ["other"], ["m", "other"], ["other", "late", "m"], ["late"]]) {
      for (const config of [latest, configs[length - 3] as RunnableConfig, configs[40] as RunnableConfig]) {
        const expected = await memory.getDeltaChannelHistory({ config, channels });
        expect(await redis.getDeltaChannelHistory({ config, channels }), channels.join()).toEqual(expected);
      }
    }
    const history = await redis.getDeltaChannelHistory({ config: latest, channels: ["m", "other", "late"] });
    // m from the root over two pages, other from its seed a few ancestors back, late from its seed mid-chain.
    expect(history.m?.writes).toHaveLength(length - 1 + Math.ceil((length - 1) / 25));
    expect(history.other?.seed).toEqual(new DeltaSnapshot(["o"]));
    expect(history.other?.writes.length).toBeLessThan(10);
    expect(history.late?.seed).toEqual(new DeltaSnapshot(["l"]));
  });

  it("orders one ancestor's writes by writesSortKey when they were stored in another order", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("dho") });
    const memory = new MemorySaver();
    const ids = [uuid6(0), uuid6(1)];
    let config: RunnableConfig = { configurable: { thread_id: "order", checkpoint_ns: "" } };
    const parents: RunnableConfig[] = [];
    for (const saver of [redis, memory]) {
      const root = { ...emptyCheckpoint(), id: ids[0] as string, channel_values: { m: new DeltaSnapshot([]) } };
      root.channel_versions = { m: 1 };
      const first = await saver.put(config, root, { source: "loop", step: 0, parents: {} }, { m: 1 });
      // Tasks finish out of order: z before a, and a's second write before its first.
      await saver.putWrites(first, [["m", "z0"]], "z", "~b");
      await saver.putWrites(
        first,
        [
          ["m", "a0"],
          ["m", "a1"],
        ],
        "a",
        "~a",
      );
      await saver.putWrites(first, [["m", "b0"]], "b", "~a");
      const next = { ...emptyCheckpoint(), id: ids[1] as string, channel_values: {}, channel_versions: { m: 2 } };
      parents.push(await saver.put(first, next, { source: "loop", step: 1, parents: {} }, { m: 2 }));
    }
    config = parents[0] as RunnableConfig;
    const expected = await memory.getDeltaChannelHistory({ config, channels: ["m"] });
    expect(expected.m?.writes.map(([, , value]) => value)).toEqual(["a0", "a1", "b0", "z0"]);
    expect(await redis.getDeltaChannelHistory({ config, channels: ["m"] })).toEqual(expected);
  });

  it("refuses a compressed write that would inflate beyond maxValueBytes, in a bundle or in overflow", async () => {
    const prefix = testPrefix("dhz");
    const writer = new RedisSaver({ client, keyPrefix: prefix, compression: { minBytes: 64 } });
    const ids = [uuid6(0), uuid6(1)];
    const root = { ...emptyCheckpoint(), id: ids[0] as string, channel_values: { m: new DeltaSnapshot([]) } };
    root.channel_versions = { m: 1 };
    const thread = { configurable: { thread_id: "bomb", checkpoint_ns: "" } };
    const first = await writer.put(thread, root, { source: "loop", step: 0, parents: {} }, { m: 1 });
    // 20,000 repeated characters deflate to a few dozen bytes (kept in the bundle); the noise goes to overflow.
    await writer.putWrites(first, [["m", "a".repeat(20_000)]], "small");
    await writer.putWrites(first, [["m", noise(7, 12_000)]], "large");
    const next = { ...emptyCheckpoint(), id: ids[1] as string, channel_values: {}, channel_versions: { m: 2 } };
    const latest = await writer.put(first, next, { source: "loop", step: 1, parents: {} }, { m: 2 });
    expect(await client.exists(saverThreadKeys(prefix, "bomb").writesIndex)).toBe(1);
    expect((await writer.getDeltaChannelHistory({ config: latest, channels: ["m"] })).m?.writes).toHaveLength(2);
    for (const maxValueBytes of [10_000, 15_000]) {
      const reader = new RedisSaver({ client, keyPrefix: prefix, maxValueBytes });
      const history = reader.getDeltaChannelHistory({ config: latest, channels: ["m"] });
      await expect(history).rejects.toThrow(DecompressionLimitError);
      await expect(reader.getTuple(first)).rejects.toThrow(DecompressionLimitError);
    }
  });

  it("reads a channel's version from the refs only, not from the record's other bytes", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhr") });
    const configs = await writeChain(saver, "refs", 6);
    const keys = saverThreadKeys(saver.keyPrefix, "refs");
    const refsOf = (record: Buffer) => record.subarray(5, 5 + record.readUInt32BE(1)).toString("latin1");
    const rootField = `\0${configs[0]?.configurable?.checkpoint_id}`;
    const rootLine = refsOf((await storedRecord(client, keys.checkpoints, rootField))?.record as Buffer)
      .split("\n")
      .find((line) => line.startsWith("m\0")) as string;
    // Checkpoint 3 loses its m line from the refs, and its record ends with bytes that read like the root's line.
    const field = `\0${configs[3]?.configurable?.checkpoint_id}`;
    // The record, inside the wrapper that carries its pending writes (kept around the changed record).
    const { record, bundle } = (await storedRecord(client, keys.checkpoints, field)) as {
      record: Buffer;
      bundle?: Buffer;
    };
    expect(bundle?.length).toBeGreaterThan(0);
    const refs = refsOf(record);
    const kept = Buffer.from(
      refs
        .split("\n")
        .filter((line) => !line.startsWith("m\0"))
        .join("\n"),
      "latin1",
    );
    expect(kept.length).toBeLessThan(refs.length);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(kept.length);
    const rest = record.subarray(5 + refs.length);
    await client.hset(
      keys.checkpoints,
      field,
      wrapRecord(
        Buffer.concat([record.subarray(0, 1), length, kept, rest, Buffer.from(`\n${rootLine}\n`, "latin1")]),
        bundle as Buffer,
      ),
    );
    const history = await saver.getDeltaChannelHistory({ config: configs.at(-1) as RunnableConfig, channels: ["m"] });
    // No version at checkpoint 3: the walk goes on to the root's seed and keeps every write.
    expect(history.m?.seed).toEqual(new DeltaSnapshot(["seed"]));
    expect(history.m?.writes.map((w) => w[2])).toEqual([0, 1, 2, 3, 4]);
  });

  it("names the writes key when a bundle on the walk is damaged (in the writes hash, as `compression: false` stores it)", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhd"), compression: false });
    const configs = await sharedChain([saver], "damaged");
    const keys = saverThreadKeys(saver.keyPrefix, "damaged");
    const field = `\0${configs[2]?.configurable?.checkpoint_id}`;
    expect((await storedRecord(client, keys.checkpoints, field))?.bundle).toBeUndefined();
    const bundle = await client.hgetBuffer(keys.writes, field);
    expect(bundle?.length).toBeGreaterThan(3);
    await client.hset(keys.writes, field, (bundle as Buffer).subarray(0, (bundle as Buffer).length - 3));
    const error = await saver
      .getDeltaChannelHistory({ config: configs.at(-1) as RunnableConfig, channels: ["other"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptCheckpointError);
    expect((error as CorruptCheckpointError).key).toBe(keys.writes);
  });

  it("reports a damaged bundle inside a record on the walk (naming the checkpoints key), and a damaged wrapper on a read, as corrupt", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhw") });
    const configs = await sharedChain([saver], "wrapped");
    const keys = saverThreadKeys(saver.keyPrefix, "wrapped");
    const field = `\0${configs[2]?.configurable?.checkpoint_id}`;
    expect(await client.hexists(keys.writes, field)).toBe(0);
    const stored = (await client.hgetBuffer(keys.checkpoints, field)) as Buffer;
    const { record, bundle } = (await storedRecord(client, keys.checkpoints, field)) as {
      record: Buffer;
      bundle: Buffer;
    };
    expect(bundle.length).toBeGreaterThan(3);
    const walk = () =>
      saver
        .getDeltaChannelHistory({ config: configs.at(-1) as RunnableConfig, channels: ["other"] })
        .catch((e: unknown) => e);
    // The bundle cut short: its last write is incomplete. The error names the key that holds it.
    await client.hset(keys.checkpoints, field, stored.subarray(0, stored.length - 3));
    const cutShort = await walk();
    expect(cutShort).toBeInstanceOf(CorruptCheckpointError);
    expect((cutShort as CorruptCheckpointError).key).toBe(keys.checkpoints);
    // The wrapper's length past its end: the record cannot be found in it.
    const damaged = Buffer.from(stored);
    damaged.writeUInt32BE(stored.length, 1);
    await client.hset(keys.checkpoints, field, damaged);
    const read = await saver.getTuple(configs[2] as RunnableConfig).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(CorruptCheckpointError);
    expect((read as CorruptCheckpointError).key).toBe(keys.checkpoints);
    expect((read as Error).message).toContain("pending-writes wrapper is damaged");
    // Put back whole, it reads again.
    await client.hset(keys.checkpoints, field, wrapRecord(record, bundle));
    expect((await saver.getTuple(configs[2] as RunnableConfig))?.pendingWrites?.length).toBeGreaterThan(0);
  });

  it("rejects a config without thread_id and channel names that are not strings", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhe") });
    await expect(saver.getDeltaChannelHistory({ config: {}, channels: ["m"] })).rejects.toThrow(InvalidConfigError);
    await expect(
      saver.getDeltaChannelHistory({
        config: { configurable: { thread_id: "t" } },
        channels: [1 as unknown as string],
      }),
    ).rejects.toThrow(InvalidInputError);
  });
});

/** A chain: a snapshot seed at the root, then one write of `value(i)` (default `i`) to channel m on each checkpoint i. */
async function writeChain(
  saver: RedisSaver,
  threadId: string,
  length: number,
  value: (i: number) => unknown = (i) => i,
  inHistory = false,
): Promise<RunnableConfig[]> {
  const ids = Array.from({ length }, (_, i) => uuid6(i));
  const configs = await Promise.all(
    ids.map((id, i) => {
      const values = i === 0 ? { m: new DeltaSnapshot(["seed"]) } : {};
      const checkpoint = { ...emptyCheckpoint(), id, channel_values: values, channel_versions: { m: i + 1 } };
      const parent = { configurable: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: ids[i - 1] } };
      // inHistory: metadata as LangGraph's DeltaChannel writes it, so each record names m as left to history.
      const counters = inHistory ? { counters_since_delta_snapshot: { m: [i, 0] as [number, number] } } : {};
      return saver.put(parent, checkpoint, { source: "loop", step: i, parents: {}, ...counters }, { m: i + 1 });
    }),
  );
  await Promise.all(configs.slice(0, -1).map((config, i) => saver.putWrites(config, [["m", value(i)]], "task")));
  return configs;
}

/**
 * A chain of `length` checkpoints over channels m (seed at the root), late (seed at checkpoint 100) and other (seed
 * four checkpoints before the end). Each step writes m and other in one bundle and, on every tenth, late; every
 * 25th step also writes a value too large for the bundle (overflow) to m and one to other; values of 64 bytes or
 * more are stored compressed when the saver compresses.
 */
/** `chars` letters that compress poorly, the same for the same seed. */
function noise(seed: number, chars: number): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  let out = "";
  for (let i = 0; i < chars; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out += String.fromCharCode(97 + ((state >>> 16) % 26));
  }
  return out;
}

async function mixedChain(savers: BaseCheckpointSaver[], threadId: string, length: number): Promise<RunnableConfig[]> {
  const configs: RunnableConfig[] = [];
  const ids = Array.from({ length }, (_, i) => uuid6(i));
  for (const saver of savers) {
    let parent: RunnableConfig = { configurable: { thread_id: threadId, checkpoint_ns: "" } };
    for (let i = 0; i < length; i++) {
      const values: Record<string, unknown> = {};
      if (i === 0) values.m = new DeltaSnapshot(["m"]);
      if (i === 100) values.late = new DeltaSnapshot(["l"]);
      if (i === length - 5) values.other = new DeltaSnapshot(["o"]);
      const versions = { m: i + 1, other: i + 1, late: i + 1 };
      const checkpoint = {
        ...emptyCheckpoint(),
        id: ids[i] as string,
        channel_values: values,
        channel_versions: versions,
      };
      const stored = await saver.put(parent, checkpoint, { source: "loop", step: i, parents: {} }, { ...versions });
      if (i < length - 1) {
        const writes: [string, unknown][] = [
          ["m", `m${i} ${"x".repeat(i % 3 === 0 ? 80 : 1)}`],
          ["other", `o${i}`],
        ];
        if (i % 10 === 0) writes.push(["late", `l${i}`]);
        await saver.putWrites(stored, writes, "task");
        if (i % 25 === 0) {
          await saver.putWrites(stored, [["m", noise(i, 8000)]], "big-m");
          await saver.putWrites(stored, [["other", noise(-i, 8000)]], "big-other");
        }
      }
      if (saver === savers[0]) configs.push(stored);
      parent = stored;
    }
  }
  return configs;
}

/**
 * Four checkpoints whose steps write to two channels: m has its seed at the root, `other` on the second checkpoint,
 * so a walk of both keeps `other`'s writes only down to there. The second checkpoint's step writes both channels in
 * one bundle plus one write too large for it (overflow).
 */
async function sharedChain(savers: BaseCheckpointSaver[], threadId: string): Promise<RunnableConfig[]> {
  const ids = Array.from({ length: 4 }, (_, i) => uuid6(i));
  const seeds = (i: number): Record<string, unknown> =>
    [{ m: new DeltaSnapshot(["m0"]), other: new DeltaSnapshot(["o0"]) }, { other: new DeltaSnapshot(["o1"]) }][i] ?? {};
  const writes: [string, [string, unknown][]][][] = [
    [
      [
        "t0",
        [
          ["m", "s0"],
          ["other", "o0"],
        ],
      ],
    ],
    [
      [
        "t1",
        [
          ["m", "a"],
          ["other", "x"],
          ["m", "b"],
        ],
      ],
      ["t2", [["other", "big ".repeat(2000)]]],
      ["t3", [["m", "after"]]],
    ],
    [["t4", [["other", "y"]]]],
  ];
  const configs: RunnableConfig[] = [];
  for (const [i, id] of ids.entries()) {
    const versions = { m: i + 1, other: i + 1 };
    const parent = { configurable: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: ids[i - 1] } };
    let stored: RunnableConfig | undefined;
    for (const saver of savers) {
      const checkpoint = { ...emptyCheckpoint(), id, channel_values: seeds(i), channel_versions: { ...versions } };
      stored = await saver.put(parent, checkpoint, { source: "loop", step: i, parents: {} }, { ...versions });
      for (const [taskId, list] of writes[i] ?? []) await saver.putWrites(stored, list, taskId);
    }
    configs.push(stored as RunnableConfig);
  }
  return configs;
}

// These count the walk itself: without the history cache, which would answer a repeated load from what it holds.
describe("getDeltaChannelHistory's command count does not grow with the chain beyond its pages", () => {
  it("one script call per page: 1 for a short chain, 1 for a full page, 3 for two pages and a bit", async () => {
    const client = newRedis();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhm"), deltaHistoryCache: false });
    const page = DELTA_HISTORY_PAGE_CHECKPOINTS;
    const lengths = [10, page + 1, page * 2 + 2];
    const tips: RunnableConfig[] = [];
    for (const [i, length] of lengths.entries())
      tips.push((await writeChain(saver, `t${i}`, length)).at(-1) as RunnableConfig);
    await saver.getDeltaChannelHistory({ config: tips[0] as RunnableConfig, channels: ["m"] });
    const calls: number[] = [];
    for (const tip of tips) {
      const seen = await commandsFor(client, saver.keyPrefix, () =>
        saver.getDeltaChannelHistory({ config: tip, channels: ["m"] }),
      );
      calls.push(seen.filter((c) => c === "EVALSHA" || c === "EVAL").length);
    }
    expect(calls).toEqual([1, 1, 3]);
  });

  it("a page also ends once it holds DELTA_HISTORY_PAGE_BYTES: 2 calls for writes of 1.5 times that", async () => {
    const client = newRedis();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhb"), deltaHistoryCache: false });
    // Eight writes: the first page's byte budget runs out in the middle of a run of ancestors read together.
    const count = 8;
    const size = Math.ceil((DELTA_HISTORY_PAGE_BYTES * 1.5) / count);
    const tip = (await writeChain(saver, "big", count + 1, (i) => `${i}`.padEnd(size, "x"))).at(-1) as RunnableConfig;
    await saver.getDeltaChannelHistory({ config: tip, channels: ["m"] });
    let history: Awaited<ReturnType<RedisSaver["getDeltaChannelHistory"]>> = {};
    const seen = await commandsFor(client, saver.keyPrefix, async () => {
      history = await saver.getDeltaChannelHistory({ config: tip, channels: ["m"] });
    });
    expect(seen.filter((c) => c === "EVALSHA" || c === "EVAL").length).toBe(2);
    expect(history.m?.seed).toEqual(new DeltaSnapshot(["seed"]));
    const firstCharacters = history.m?.writes.map(([, , value]) => (value as string).slice(0, 1));
    expect(firstCharacters).toEqual(Array.from({ length: count }, (_, i) => `${i}`));
    expect(history.m?.writes.every(([, , value]) => (value as string).length === size)).toBe(true);
  });

  it("loading the latest state of a DeltaChannel chat thread sends one command (target: at most 3)", async () => {
    const client = newRedis();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhl") });
    const State = Annotation.Root({
      messages: new DeltaChannel<BaseMessage[], BaseMessage[]>(
        messagesDeltaReducer as (state: BaseMessage[], writes: BaseMessage[][]) => BaseMessage[],
      ),
    });
    const graph = new StateGraph(State)
      .addNode("reply", () => ({ messages: [new AIMessage("a".repeat(40))] }))
      .addEdge(START, "reply")
      .addEdge("reply", END)
      .compile({ checkpointer: saver });
    const config = { configurable: { thread_id: "chat" } };
    for (let turn = 0; turn < 60; turn++) await graph.invoke({ messages: [new HumanMessage("q".repeat(20))] }, config);
    const seen = await commandsFor(client, saver.keyPrefix, async () => {
      const state = await graph.getState(config);
      expect(state.values.messages).toHaveLength(120);
    });
    // getTuple's read brings the walk's first page (delta-history-read-ahead.ts): the load sends nothing more.
    expect(seen.filter((c) => c === "EVALSHA" || c === "EVAL").length).toBe(1);
  });
});

/**
 * The commands the client sends while `action` runs, as MONITOR on the master that owns `slotKey`'s slot shows them:
 * only those from the client's own connection to that master (scripts' inner commands show as "lua" and are not
 * sent; topology refreshes of a cluster client are not part of the action). A GET of a key in the same slot before
 * and after the action brackets the window, so nothing is missed whatever the MONITOR stream's delay.
 */
async function sentToSlotMaster(client: RedisClient, slotKey: string, action: () => Promise<unknown>) {
  const master = await slotMaster(client, slotKey);
  const monitor = await startMonitor({ host: master.host, port: master.port });
  const [start, end] = [`${slotKey}:monitor-start`, `${slotKey}:monitor-end`];
  const sent: string[] = [];
  let counting = false;
  let ended!: () => void;
  const endSeen = new Promise<void>((resolve) => {
    ended = resolve;
  });
  let started!: () => void;
  const startSeen = new Promise<void>((resolve) => {
    started = resolve;
  });
  monitor.on(({ args, source }) => {
    if (args.includes(start)) {
      counting = true;
      started();
    } else if (args.includes(end)) {
      counting = false;
      ended();
    } else if (counting && source === master.clientAddress()) {
      const command = String(args[0]).toUpperCase();
      if (command !== "CLUSTER") sent.push(command);
    }
  });
  try {
    await client.get(start);
    await startSeen;
    await action();
    await client.get(end);
    await endSeen;
  } finally {
    monitor.close();
  }
  return { sent, master: `${master.host}:${master.port}` };
}

/** The master serving `key`'s slot, and (once connected) the address of the client's connection to it. */
async function slotMaster(client: RedisClient, key: string) {
  if (!isCluster(client)) {
    const options = client.options;
    const stream = () => (client as unknown as { stream: { localAddress: string; localPort: number } }).stream;
    return {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 6379,
      clientAddress: () => `${stream().localAddress}:${stream().localPort}`,
    };
  }
  const slot = keySlot(key);
  const ranges = await client.cluster("SLOTS");
  const owner = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  if (!owner) throw new Error(`no master serves slot ${slot}`);
  const [host, port] = owner;
  const connection = () => {
    const node = client.nodes("master").find((n) => n.options.port === port);
    const stream = (node as unknown as { stream?: { localAddress: string; localPort: number } } | undefined)?.stream;
    if (!stream) throw new Error(`the client has no connection to ${host}:${port}`);
    return `${stream.localAddress}:${stream.localPort}`;
  };
  return { host, port, clientAddress: connection };
}

describe.each(targets)(
  "loading a long DeltaChannel thread: commands sent per page, on its master ($name)",
  ({ name, connect }) => {
    it("the latest state of chains of 1 and 3 pages costs one read plus one call per page after the first, sent to the slot's master", async () => {
      const client = connect();
      const saver = new RedisSaver({ client, keyPrefix: testPrefix("dhc"), deltaHistoryCache: false });
      const page = DELTA_HISTORY_PAGE_CHECKPOINTS;
      // Records that name m as left to history (LangGraph's DeltaChannel steps) get the first page with the read;
      // records that do not (code of its own, earlier releases) get it from the first history call.
      const chains = [
        { threadId: "one-page", length: page + 1, pages: 1, inHistory: true },
        { threadId: "three-pages", length: page * 2 + 2, pages: 3, inHistory: true },
        { threadId: "three-pages-unmarked", length: page * 2 + 2, pages: 3, inHistory: false },
      ];
      for (const chain of chains) await writeChain(saver, chain.threadId, chain.length, undefined, chain.inHistory);
      const counts: { length: number; sent: number; scripts: number; pages: number; inHistory: boolean }[] = [];
      for (const chain of chains) {
        const configurable = { thread_id: chain.threadId };
        const load = async () => {
          const tuple = await saver.getTuple({ configurable });
          const history = await saver.getDeltaChannelHistory({
            config: tuple?.config as RunnableConfig,
            channels: ["m"],
          });
          return history.m;
        };
        await load(); // scripts loaded, connections open: the counted call is a steady one
        const slotKey = saverThreadKeys(saver.keyPrefix, chain.threadId).checkpoints;
        let loaded: Awaited<ReturnType<typeof load>>;
        const { sent } = await sentToSlotMaster(client, slotKey, async () => {
          loaded = await load();
        });
        // The whole chain came back: every write but the tip's, and the seed at the root.
        expect(loaded?.writes).toHaveLength(chain.length - 1);
        const scripts = sent.filter((command) => command === "EVALSHA" || command === "EVAL").length;
        counts.push({
          length: chain.length,
          sent: sent.length,
          scripts,
          pages: chain.pages,
          inHistory: chain.inHistory,
        });
      }
      // One getTuple read, then one history script call per page not read with it: 1 and 3, though the second chain
      // is twice as long; 4 when the records do not say which channels are left to history.
      expect(
        counts.map(({ sent, scripts }) => [sent, scripts]),
        name,
      ).toEqual(counts.map(({ pages, inHistory }) => [inHistory ? pages : 1 + pages, inHistory ? pages : 1 + pages]));
    });
  },
);
