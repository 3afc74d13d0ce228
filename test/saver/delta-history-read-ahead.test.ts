/**
 * DeltaChannel histories read ahead with getTuple (src/saver/delta-history-read-ahead.ts): the load LangGraph makes
 * right after getTuple takes the first page the read brought, so a first load costs the read alone; every answer is
 * the one a load without it gives (a cold saver's, MemorySaver's), with a cache and without, for channel sets the
 * read did not walk, for histories of several pages, and when what the read stopped at is no longer what is held.
 */
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver } from "@langchain/langgraph";
import { DeltaSnapshot, emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { InvalidOptionError, RedisSaver } from "../../src/index.js";
import { DeltaHistoryReadAhead, type ReadAheadHistory } from "../../src/saver/delta-history-read-ahead.js";
import { commandsFor, newRedis, targets, testPrefix } from "../helpers/redis.js";
import { deltaReplyGraph } from "./delta-graph.js";
import { CHANNELS, random, randomHistory } from "./random-history.js";

/** `count` checkpoints of the DeltaChannel m after `parent` (its snapshot at checkpoint 0), each with a write. */
async function chain(saver: RedisSaver, threadId: string, from: number, count: number, parent?: RunnableConfig) {
  const configs: RunnableConfig[] = [];
  let previous = parent;
  for (let i = from; i < from + count; i++) {
    const values = i === 0 ? { m: new DeltaSnapshot(["seed"]) } : {};
    const checkpoint = { ...emptyCheckpoint(), id: uuid6(i), channel_values: values, channel_versions: { m: i + 1 } };
    const metadata = {
      source: "loop" as const,
      step: i,
      parents: {},
      counters_since_delta_snapshot: { m: [i, 0] as [number, number] },
    };
    if (previous) await saver.putWrites(previous, [["m", `write ${i - 1}`]], `task-${i - 1}`);
    previous = await saver.put(previous ?? { configurable: { thread_id: threadId } }, checkpoint, metadata, {
      m: i + 1,
    });
    configs.push(previous);
  }
  return configs;
}

const history = (saver: RedisSaver | MemorySaver, config: RunnableConfig, channels: string[]) =>
  saver.getDeltaChannelHistory({ config, channels });

/** getTuple, then the history of the checkpoint it returned: what LangGraph does to load a state. */
async function readThenLoad(saver: RedisSaver, config: RunnableConfig, channels: string[]) {
  const tuple = await saver.getTuple(config);
  return history(saver, tuple?.config ?? config, channels);
}

const chatThread = { configurable: { thread_id: "chat" } };

/**
 * 12 turns of a DeltaChannel chat (a snapshot every 4 updates) on `saver` and on MemorySaver; after each, `check`
 * gets the turn and the state values MemorySaver reads.
 */
async function chatTurns(saver: RedisSaver, check: (turn: number, expected: unknown) => Promise<void>) {
  const graph = deltaReplyGraph(saver, 4);
  const memoryGraph = deltaReplyGraph(new MemorySaver(), 4);
  for (let turn = 0; turn < 12; turn++) {
    const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] };
    await graph.invoke(input, chatThread);
    await memoryGraph.invoke(input, chatThread);
    await check(turn, (await memoryGraph.getState(chatThread)).values);
  }
}

const scripts = (seen: string[]) => seen.filter((command) => command === "EVALSHA" || command === "EVAL").length;

/** A client of its own, and on one key prefix a saver with the held-history cache and one without. */
function savers(prefix: string) {
  const client = newRedis();
  const keyPrefix = testPrefix(prefix);
  const saver = new RedisSaver({ client, keyPrefix });
  const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
  return { client, keyPrefix, saver, cold };
}

/** What `load` answers, and the commands it sent (MONITOR: the scripts, and the commands run inside them). */
async function counted<T>(client: ReturnType<typeof newRedis>, keyPrefix: string, load: () => Promise<T>) {
  let loaded: T | undefined;
  const seen = await commandsFor(client, keyPrefix, async () => {
    loaded = await load();
  });
  return { loaded: loaded as T, seen };
}

describe.each(targets)("DeltaChannel histories read ahead with getTuple ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });
  afterAll(() => client.disconnect());

  it("answers as MemorySaver after every getTuple, with the cache and without, whatever channels are asked", async () => {
    for (const seed of [11, 12]) {
      const keyPrefix = testPrefix("dra");
      const held = new RedisSaver({ client, keyPrefix });
      const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
      const memory = new MemorySaver();
      const stored = await randomHistory([held, memory], "thread", seed, 40, { deltaChannels: ["messages", "log"] });
      const next = random(seed);
      // The read walks the channels the checkpoint leaves to history: some sets are those, some fewer, some more.
      const channelSets = [["messages", "log"], ["messages"], [...CHANNELS], ["messages", "never-written"]];
      for (const { config } of [...stored].sort(() => next() - 0.5)) {
        const channels = channelSets[Math.floor(next() * channelSets.length)] as string[];
        const expected = await history(memory, config, channels);
        const label = `seed ${seed}, ${JSON.stringify(config.configurable)}, ${channels}`;
        expect(await readThenLoad(held, config, channels), label).toEqual(expected);
        expect(await readThenLoad(cold, config, channels), `${label}, no cache`).toEqual(expected);
      }
    }
  });

  it("a DeltaChannel graph's turns read as with MemorySaver, states loaded by a new saver after each", async () => {
    const keyPrefix = testPrefix("drt");
    const saver = new RedisSaver({ client, keyPrefix });
    await chatTurns(saver, async (turn, expected) => {
      expect((await deltaReplyGraph(saver, 4).getState(chatThread)).values, `turn ${turn}`).toEqual(expected);
      const fresh = deltaReplyGraph(new RedisSaver({ client, keyPrefix }), 4);
      expect((await fresh.getState(chatThread)).values, `turn ${turn}, new saver`).toEqual(expected);
    });
  });
});

describe("DeltaChannel histories read ahead: commands, pages and held histories (MONITOR)", () => {
  it("a DeltaChannel graph's states read as with MemorySaver, each load one script: the read", async () => {
    const { client, keyPrefix, saver } = savers("drg");
    await chatTurns(saver, async (turn, expected) => {
      // A new process's first load, and the load after new steps by the process that holds the thread's history.
      for (const [reader, who] of [
        [new RedisSaver({ client, keyPrefix }), "new saver"],
        [saver, "holding saver"],
      ] as const) {
        const state = await counted(client, keyPrefix, () => deltaReplyGraph(reader, 4).getState(chatThread));
        expect(scripts(state.seen), `turn ${turn}, ${who}`).toBe(1);
        expect(state.loaded.values, `turn ${turn}, ${who}`).toEqual(expected);
      }
    });
    client.disconnect();
  });

  it("a history of several pages goes on from the page read ahead", async () => {
    const { client, keyPrefix, cold: saver } = savers("drp");
    // 1,100 checkpoints after one snapshot: 3 pages of DELTA_HISTORY_PAGE_CHECKPOINTS.
    const tip = (await chain(saver, "t", 0, 1_100)).at(-1) as RunnableConfig;
    const { loaded, seen } = await counted(client, keyPrefix, () => readThenLoad(saver, tip, ["m"]));
    expect(scripts(seen)).toBe(3);
    expect(loaded.m?.writes).toHaveLength(1_099);
    expect(loaded).toEqual(await history(saver, tip, ["m"]));
    client.disconnect();
  });

  it("a page that stopped at a held checkpoint no longer held is walked again, and answers as a cold saver", async () => {
    const { client, keyPrefix, saver, cold } = savers("drs");
    const first = await chain(saver, "t", 0, 20);
    await history(saver, first.at(-1) as RunnableConfig, ["m"]);
    const more = await chain(saver, "t", 20, 5, first.at(-1));
    const newest = more.at(-1) as RunnableConfig;
    // The read walks down to checkpoint 19, held; then a load of checkpoint 22 takes its place as the tip.
    const tuple = await saver.getTuple(newest);
    await history(saver, more[2] as RunnableConfig, ["m"]);
    const { loaded, seen } = await counted(client, keyPrefix, () =>
      history(saver, tuple?.config as RunnableConfig, ["m"]),
    );
    expect(scripts(seen)).toBe(1);
    expect(loaded).toEqual(await history(cold, newest, ["m"]));
    expect(loaded.m?.writes).toHaveLength(24);
    client.disconnect();
  });

  it("a read of an ancestor on a held history brings no walk: the load cuts it from what is held", async () => {
    const { client, keyPrefix, saver, cold } = savers("drh");
    const configs = await chain(saver, "t", 0, 200);
    await readThenLoad(saver, configs.at(-1) as RunnableConfig, ["m"]);
    const ancestor = configs[150] as RunnableConfig;
    const { loaded, seen } = await counted(client, keyPrefix, () => readThenLoad(saver, ancestor, ["m"]));
    // The read (its record, blobs and epoch), nothing of the 150 ancestors below it.
    expect(scripts(seen)).toBe(1);
    expect(seen.length).toBeLessThan(12);
    expect(loaded).toEqual(await history(cold, ancestor, ["m"]));
    expect(loaded.m?.writes).toHaveLength(150);
    client.disconnect();
  });

  it("with deltaHistoryReadAhead: false, the read brings no walk and the load walks, with the same answer", async () => {
    const { client, keyPrefix, cold } = savers("dro");
    const off = new RedisSaver({ client, keyPrefix, deltaHistoryReadAhead: false });
    const tip = (await chain(cold, "t", 0, 200)).at(-1) as RunnableConfig;
    const read = await counted(client, keyPrefix, () => off.getTuple(tip));
    expect(scripts(read.seen)).toBe(1);
    expect(read.seen.length).toBeLessThan(12);
    const { loaded, seen } = await counted(client, keyPrefix, () =>
      history(off, read.loaded?.config as RunnableConfig, ["m"]),
    );
    expect(scripts(seen)).toBe(1);
    expect(seen.length).toBeGreaterThan(199);
    expect(loaded).toEqual(await readThenLoad(cold, tip, ["m"]));
    for (const bad of ["no", 0, null, {}]) {
      expect(() => new RedisSaver({ client, deltaHistoryReadAhead: bad as never })).toThrow(InvalidOptionError);
    }
    client.disconnect();
  });

  it("a thread this process deletes after the read is not answered from the page read ahead", async () => {
    const { client, keyPrefix, cold: saver, saver: other } = savers("drd");
    const tip = (await chain(saver, "t", 0, 10)).at(-1) as RunnableConfig;
    const tuple = await saver.getTuple(tip);
    await saver.deleteThread("t");
    const { loaded, seen } = await counted(client, keyPrefix, () =>
      history(saver, tuple?.config as RunnableConfig, ["m"]),
    );
    expect(scripts(seen)).toBe(1);
    expect(loaded).toEqual(await history(other, tip, ["m"]));
    expect(loaded.m?.writes).toEqual([]);
    client.disconnect();
  });
});

describe("DeltaHistoryReadAhead", () => {
  /** A page whose parts are `pieceBytes` bytes of their own (one buffer each), as the script's reply is made. */
  const page = (pieceBytes: number): ReadAheadHistory => ({
    channels: ["m"],
    page: {
      cursor: "",
      entries: Buffer.alloc(4),
      pieces: [Buffer.alloc(pieceBytes)],
      seeds: [],
      visited: [],
      bases: new Map(),
      stopped: false,
    },
    epoch: "",
    stopAt: "",
    generation: 0,
  });

  it("hands a page to one load of its thread and checkpoint, and forgets a thread's pages", () => {
    const waiting = new DeltaHistoryReadAhead();
    const kept = page(10);
    waiting.put("t", "\u0000a", kept);
    waiting.put("t", "\u0000b", page(10));
    waiting.put("u", "\u0000a", page(10));
    expect(waiting.take("t", "\u0000c")).toBeUndefined();
    expect(waiting.take("t", "\u0000a")?.page).toBe(kept.page);
    expect(waiting.take("t", "\u0000a")).toBeUndefined();
    waiting.forgetThread("t");
    expect(waiting.take("t", "\u0000b")).toBeUndefined();
    expect(waiting.take("u", "\u0000a")).toBeDefined();
  });

  it("keeps at most 1,024 pages and 32 MiB of the buffers they hold, pushing the oldest out", () => {
    const byCount = new DeltaHistoryReadAhead();
    for (let i = 0; i < 1_025; i++) byCount.put("t", `\u0000${i}`, page(1));
    expect(byCount.take("t", "\u00000")).toBeUndefined();
    expect(byCount.take("t", "\u00001")).toBeDefined();
    expect(byCount.take("t", "\u00001024")).toBeDefined();
    // 1 MiB pieces: 32 MiB of them (and their small buffers) do not fit, so the oldest goes.
    const byBytes = new DeltaHistoryReadAhead();
    for (let i = 0; i < 32; i++) byBytes.put("t", `\u0000${i}`, page(1024 * 1024));
    expect(byBytes.take("t", "\u00000")).toBeUndefined();
    expect(byBytes.take("t", "\u000031")).toBeDefined();
    // A page larger than the whole budget is not kept, and pushes nothing out.
    byBytes.put("t", "\u0000huge", page(33 * 1024 * 1024));
    expect(byBytes.take("t", "\u0000huge")).toBeUndefined();
    expect(byBytes.take("t", "\u000030")).toBeDefined();
  });
});
