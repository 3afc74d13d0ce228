/**
 * The DeltaChannel history cache (src/saver/delta-history-cache.ts): a saver that holds the history it read last
 * answers every load as a saver without it does (random histories, loads in random order, channel sets that change,
 * a budget too small to hold anything, histories trimmed, removed or cut by other processes), and a load after new
 * steps walks only those steps (MONITOR).
 */
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { DeltaSnapshot, emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { InvalidOptionError, RedisSaver } from "../../src/index.js";
import { DeltaHistoryCache, type HeldHistory } from "../../src/saver/delta-history-cache.js";
import { commandsFor, newRedis, targets, testPrefix } from "../helpers/redis.js";
import { deltaReplyGraph } from "./delta-graph.js";
import { CHANNELS, random, randomHistory } from "./random-history.js";

/**
 * Appends `count` checkpoints after `parent` (none: a new thread), each writing the DeltaChannel m: checkpoint i
 * stores a snapshot of m when i is a multiple of `snapshotEvery`, and otherwise leaves m to the ancestors' writes (as
 * LangGraph's DeltaChannel does: its metadata counts the updates since the snapshot), so retention keeps the chain
 * back to the snapshot.
 */
async function extendChain(
  saver: RedisSaver,
  threadId: string,
  from: number,
  count: number,
  parent?: RunnableConfig,
  runId = "",
  snapshotEvery = 50,
): Promise<RunnableConfig[]> {
  const configs: RunnableConfig[] = [];
  let previous = parent;
  for (let i = from; i < from + count; i++) {
    const since = i % snapshotEvery;
    const values = since === 0 ? { m: new DeltaSnapshot([`seed ${i}`]) } : {};
    const checkpoint = { ...emptyCheckpoint(), id: uuid6(i), channel_values: values, channel_versions: { m: i + 1 } };
    const config = previous ?? { configurable: { thread_id: threadId, checkpoint_ns: "" } };
    const metadata = {
      source: "loop" as const,
      step: i,
      parents: {},
      counters_since_delta_snapshot: { m: [since, 0] as [number, number] },
      ...(runId ? { run_id: runId } : {}),
    };
    if (previous) await saver.putWrites(previous, [["m", `write ${i - 1}`]], `task-${i - 1}`);
    previous = await saver.put(config, checkpoint, metadata, { m: i + 1 });
    configs.push(previous);
  }
  return configs;
}

const history = (saver: RedisSaver | MemorySaver, config: RunnableConfig, channels: string[]) =>
  saver.getDeltaChannelHistory({ config, channels });

describe.each(targets)("the DeltaChannel history cache ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });

  it("answers as a saver without it and as MemorySaver, loads in random order with changing channel sets", async () => {
    for (const seed of [5, 6, 7]) {
      const keyPrefix = testPrefix("dhk");
      const held = new RedisSaver({ client, keyPrefix });
      const tiny = new RedisSaver({ client, keyPrefix, deltaHistoryCache: { maxBytes: 600 } });
      const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
      const memory = new MemorySaver();
      const stored = await randomHistory([held, memory], "thread", seed, 40);
      const next = random(seed);
      const channelSets = [[...CHANNELS], ["messages"], ["log", "other"], [...CHANNELS, "never-written"]];
      for (let pass = 0; pass < 3; pass++) {
        const order = stored.map((s) => s.config).sort(() => next() - 0.5);
        for (const config of order) {
          const channels = channelSets[Math.floor(next() * channelSets.length)] as string[];
          const expected = await history(memory, config, channels);
          const label = `seed ${seed}, pass ${pass}, ${JSON.stringify(config.configurable)}, ${channels}`;
          expect(await history(held, config, channels), label).toEqual(expected);
          // The same load again is answered by what the saver now holds.
          if (next() < 0.3) expect(await history(held, config, channels), `${label}, again`).toEqual(expected);
          expect(await history(tiny, config, channels), label).toEqual(expected);
          expect(await history(cold, config, channels), label).toEqual(expected);
        }
      }
    }
  });

  it("a DeltaChannel graph reads as MemorySaver's, durability async and exit, a fork from an earlier state", async () => {
    const makeGraph = (checkpointer: BaseCheckpointSaver) => deltaReplyGraph(checkpointer, 9);
    const stored: Record<string, number> = {};
    for (const durability of ["async", "exit"] as const) {
      const keyPrefix = testPrefix("dhd");
      const held = makeGraph(new RedisSaver({ client, keyPrefix }));
      const cold = makeGraph(new RedisSaver({ client, keyPrefix, deltaHistoryCache: false }));
      const memory = makeGraph(new MemorySaver());
      const thread = { configurable: { thread_id: "chat" } };
      const ask = async (turn: number, config: RunnableConfig) => {
        const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] };
        await held.invoke(input, { ...config, durability });
        await memory.invoke(input, { ...config, durability });
      };
      const same = async (config: RunnableConfig, what: string) => {
        const expected = (await memory.getState(config)).values;
        expect((await held.getState(config)).values, `${durability}: ${what}`).toEqual(expected);
        expect((await cold.getState(config)).values, `${durability}: ${what}, without the cache`).toEqual(expected);
      };
      for (let turn = 0; turn < 12; turn++) {
        await ask(turn, thread);
        await same(thread, `after turn ${turn}`);
      }
      // A fork from the state of 5 turns ago, then more turns on it: the held tip is no ancestor of the fork.
      const states = async (graph: typeof held) => {
        const list = [];
        for await (const state of graph.getStateHistory(thread)) list.push(state.config);
        return list;
      };
      const [heldStates, memoryStates] = await Promise.all([states(held), states(memory)]);
      stored[durability] = heldStates.length;
      const back = Math.floor(heldStates.length / 2);
      const fork = async (turn: number) => {
        const input = { messages: [new HumanMessage({ content: `fork ${turn}`, id: `f${turn}` })] };
        await held.invoke(input, { ...(heldStates[back] as RunnableConfig), durability });
        await memory.invoke(input, { ...(memoryStates[back] as RunnableConfig), durability });
      };
      await fork(0);
      await same(thread, "after the fork");
      for (let turn = 12; turn < 16; turn++) {
        await ask(turn, thread);
        await same(thread, `after turn ${turn}, on the fork`);
      }
      await fork(1);
      await same(thread, "after a second fork");
    }
    // "exit" stores one checkpoint per invoke (and anchors the DeltaChannel writes), "async" one per step.
    expect(stored.exit).toBeLessThan(stored.async as number);
  });

  /**
   * A writer, a reader (another process) and a saver without the cache over thread "t": snapshots of m at
   * checkpoints 0 and 50; run "middle" wrote 60 to 79, run "last" 80 to 99.
   */
  async function threeRuns(prefix: string) {
    const keyPrefix = testPrefix(prefix);
    const writer = new RedisSaver({ client, keyPrefix });
    const reader = new RedisSaver({ client, keyPrefix });
    const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    const chain = await extendChain(writer, "t", 0, 60);
    const cut = await extendChain(writer, "t", 60, 20, chain.at(-1), "middle");
    const last = await extendChain(writer, "t", 80, 20, cut.at(-1), "last");
    return { writer, reader, cold, chain, last };
  }

  it("holds nothing stale: after another process's prune, deleteForRuns and deleteThread, loads answer as a cold saver", async () => {
    const { writer, reader, cold, chain, last } = await threeRuns("dhs");
    const tip = last.at(-1) as RunnableConfig;
    const old = chain[30] as RunnableConfig;
    // On the tip's chain: its history is cut from the tip's while that counts.
    const onChain = last[5] as RunnableConfig;
    const writesOf = async (saver: RedisSaver, config: RunnableConfig) =>
      (await history(saver, config, ["m"])).m?.writes.length;
    const same = async (config: RunnableConfig, what: string) =>
      expect(await history(reader, config, ["m"]), what).toEqual(await history(cold, config, ["m"]));

    await same(old, "first load of an old checkpoint");
    await same(tip, "first load of the tip");
    await same(tip, "the tip again, from what the reader holds");
    expect(await writesOf(reader, tip)).toBe(49);

    // Trimmed to the newest 10 and what they need (the chain back to the snapshot at 50): the tip's history stays.
    expect((await writer.prune(["t"], { keepLast: 10 })).checkpoints).toBe(50);
    await same(tip, "the held tip after prune");
    await same(old, "a checkpoint prune removed");
    await same(tip, "the tip held again");
    await same(onChain, "an ancestor on the held chain");
    expect(await writesOf(reader, onChain)).toBe(35);

    // The run in the middle cut out: the tip's chain now ends at checkpoint 80, where no seed is.
    expect(await writer.deleteForRuns(["middle"])).toMatchObject({ checkpoints: 20 });
    await same(onChain, "an ancestor on the held chain after deleteForRuns cut it");
    expect(await writesOf(reader, onChain)).toBe(5);
    expect(await writesOf(cold, tip)).toBe(19);
    await same(tip, "the held tip after deleteForRuns cut its chain");

    await writer.deleteThread("t");
    await same(tip, "the tip of a deleted thread");
    expect(await history(reader, tip, ["m"])).toEqual({ m: { writes: [] } });
  });

  it("a load right after a read answers as of that read; a read after another process's deleteForRuns walks again", async () => {
    const { writer, reader, cold, last } = await threeRuns("dho");
    const tip = last.at(-1) as RunnableConfig;
    const before = await history(cold, tip, ["m"]);
    expect(before.m?.writes).toHaveLength(49);
    expect(await history(reader, tip, ["m"])).toEqual(before);
    // The reader reads the tip (as LangGraph does before it loads the history), then another process cuts the run
    // in the middle out: the load answers as of the read, the history the tip read then had.
    expect((await reader.getTuple(tip))?.config).toEqual(tip);
    expect(await writer.deleteForRuns(["middle"])).toMatchObject({ checkpoints: 20 });
    expect(await history(reader, tip, ["m"])).toEqual(before);
    // A read after the cut returns the new epoch: the load walks again, as a saver without the cache reads it.
    const after = await history(cold, tip, ["m"]);
    expect(after.m?.writes).toHaveLength(19);
    expect((await reader.getTuple(tip))?.config).toEqual(tip);
    expect(await history(reader, tip, ["m"])).toEqual(after);
    // So does a load with no read before it (the script checks the epoch), and a later read of the same epoch.
    expect(await history(reader, tip, ["m"])).toEqual(after);
    for await (const tuple of reader.list({ configurable: { thread_id: "t" } }, { limit: 3 })) {
      expect(await history(reader, tuple.config, ["m"])).toEqual(await history(cold, tuple.config, ["m"]));
    }
  });

  it("a budget of 0 holds nothing, and the held bytes stay within maxBytes", async () => {
    const keyPrefix = testPrefix("dhz");
    const writer = new RedisSaver({ client, keyPrefix });
    const none = new RedisSaver({ client, keyPrefix, deltaHistoryCache: { maxBytes: 0 } });
    const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    const tips: RunnableConfig[] = [];
    for (let t = 0; t < 6; t++) tips.push((await extendChain(writer, `t${t}`, 0, 40)).at(-1) as RunnableConfig);
    for (const tip of tips) {
      expect(await history(none, tip, ["m"])).toEqual(await history(cold, tip, ["m"]));
      expect(await history(writer, tip, ["m"])).toEqual(await history(cold, tip, ["m"]));
    }
  });
});

describe("a load after new steps walks only those steps (MONITOR)", () => {
  it("a repeated load runs 1 script of at most 3 commands; 3 new steps on a 300-step chain, at most 8", async () => {
    const client = newRedis();
    const keyPrefix = testPrefix("dhw");
    const saver = new RedisSaver({ client, keyPrefix });
    const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    const chain = await extendChain(saver, "t", 0, 300, undefined, "", 1000);
    const tip = chain.at(-1) as RunnableConfig;
    const count = async (load: () => Promise<unknown>) => {
      const seen = await commandsFor(client, keyPrefix, load);
      return { scripts: seen.filter((c) => c === "EVALSHA" || c === "EVAL").length, all: seen.length };
    };
    const first = await count(() => history(saver, tip, ["m"]));
    const again = await count(() => history(saver, tip, ["m"]));
    const longer = await extendChain(saver, "t", 300, 3, tip, "", 1000);
    const newTip = longer.at(-1) as RunnableConfig;
    const after = await count(() => history(saver, newTip, ["m"]));
    expect(first.scripts).toBe(1);
    expect(first.all).toBeGreaterThan(300);
    expect(again).toMatchObject({ scripts: 1 });
    expect(again.all).toBeLessThanOrEqual(1 + 3);
    expect(after.scripts).toBe(1);
    expect(after.all).toBeLessThanOrEqual(1 + 8);
    const expected = await history(cold, newTip, ["m"]);
    expect(expected.m?.writes).toHaveLength(302);
    expect(await history(saver, newTip, ["m"])).toEqual(expected);
  });

  it("getStateHistory walks each stretch between snapshots once and cuts the other histories from it", async () => {
    const client = newRedis();
    const keyPrefix = testPrefix("dhg");
    const snapshotFrequency = 8;
    const graph = deltaReplyGraph(new RedisSaver({ client, keyPrefix }), snapshotFrequency);
    const memory = deltaReplyGraph(new MemorySaver(), snapshotFrequency);
    const thread = { configurable: { thread_id: "chat" } };
    for (let turn = 0; turn < 21; turn++) {
      const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] };
      await graph.invoke(input, thread);
      await memory.invoke(input, thread);
    }
    const expected = [];
    for await (const state of memory.getStateHistory(thread)) expected.push(state.values);
    // Each script call's commands: walks run more than the few a load answered by what is held runs.
    const walksOf = (seen: string[]) => {
      const perCall: number[] = [];
      for (const command of seen) {
        if (command === "EVALSHA" || command === "EVAL") perCall.push(0);
        else if (perCall.length > 0) perCall.push((perCall.pop() as number) + 1);
      }
      return { calls: perCall.length, walks: perCall.filter((commands) => commands > 3).length };
    };
    const read = async (saver: RedisSaver) => {
      const reader = deltaReplyGraph(saver, snapshotFrequency);
      const values: unknown[] = [];
      const seen = await commandsFor(client, keyPrefix, async () => {
        for await (const state of reader.getStateHistory(thread)) values.push(state.values);
      });
      return { values, ...walksOf(seen) };
    };
    const freshSaver = new RedisSaver({ client, keyPrefix });
    const fresh = await read(freshSaver);
    const cold = await read(new RedisSaver({ client, keyPrefix, deltaHistoryCache: false }));
    expect(fresh.values).toEqual(expected);
    expect(cold.values).toEqual(expected);
    // 21 turns of 2 updates each: 5 snapshots, so 6 stretches; every checkpoint but the snapshots loads a history.
    // The first call is list()'s; its page returned the history epoch, so a load cut from the held history needs
    // no script: the new saver's calls are list()'s and its walks.
    expect(cold.calls).toBeGreaterThan(40);
    expect(cold.walks).toBeGreaterThan(40);
    expect(fresh.walks).toBeLessThanOrEqual(1 + 6);
    expect(fresh.calls).toBeLessThanOrEqual(1 + 6);
    // The walks below the newest snapshot did not take the newest state's history: loading it again walks nothing.
    // The read that returned it carried the history epoch: the load right after it needs no script at all.
    const tip = (await freshSaver.getTuple(thread))?.config as RunnableConfig;
    const afterRead = walksOf(await commandsFor(client, keyPrefix, () => history(freshSaver, tip, ["messages"])));
    expect(afterRead).toEqual({ calls: 0, walks: 0 });
    const again = walksOf(await commandsFor(client, keyPrefix, () => history(freshSaver, tip, ["messages"])));
    expect(again).toEqual({ calls: 1, walks: 0 });
    client.disconnect();
  });

  it("a load right after the read that returned its checkpoint sends no command (getState, list)", async () => {
    const client = newRedis();
    const keyPrefix = testPrefix("dhr");
    const saver = new RedisSaver({ client, keyPrefix });
    const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    const graph = deltaReplyGraph(saver, 8);
    const thread = { configurable: { thread_id: "chat" } };
    for (let turn = 0; turn < 6; turn++) {
      await graph.invoke({ messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] }, thread);
    }
    const reader = deltaReplyGraph(new RedisSaver({ client, keyPrefix }), 8);
    const scripts = (seen: string[]) => seen.filter((c) => c === "EVALSHA" || c === "EVAL").length;
    // First: the read, which brings the walk (delta-history-read-ahead.ts). Again: the read only, which returned the
    // epoch the held history has, and no walk.
    const first = await commandsFor(client, keyPrefix, () => reader.getState(thread));
    expect(scripts(first)).toBe(1);
    const again = await commandsFor(client, keyPrefix, () => reader.getState(thread));
    expect(again).toEqual(["EVALSHA", ...again.slice(1)]);
    expect(scripts(again)).toBe(1);
    // The first read walked the ancestors inside its script; the second walked none.
    expect(first.length).toBeGreaterThan(again.length + 5);
    expect((await reader.getState(thread)).values).toEqual((await deltaReplyGraph(cold, 8).getState(thread)).values);
    // list() returns the epoch with each page: an ancestor on the held history listed there is cut without a script.
    const listed: RunnableConfig[] = [];
    for await (const tuple of saver.list(thread, { limit: 4 })) listed.push(tuple.config);
    const ancestor = listed[3] as RunnableConfig;
    expect(await commandsFor(client, keyPrefix, () => history(saver, ancestor, ["messages"]))).toEqual([]);
    expect(await history(saver, ancestor, ["messages"])).toEqual(await history(cold, ancestor, ["messages"]));
    client.disconnect();
  });

  it("cuts an ancestor's history from a held one of several pages, as a cold saver reads it", async () => {
    const client = newRedis();
    const keyPrefix = testPrefix("dhp");
    const saver = new RedisSaver({ client, keyPrefix });
    const cold = new RedisSaver({ client, keyPrefix, deltaHistoryCache: false });
    // 1,100 checkpoints, one snapshot (at 0): the tip's history is 3 pages (DELTA_HISTORY_PAGE_CHECKPOINTS).
    const chain = await extendChain(saver, "t", 0, 1_100, undefined, "", 2_000);
    const tip = chain.at(-1) as RunnableConfig;
    expect((await history(saver, tip, ["m"])).m?.writes).toHaveLength(1_099);
    // Ancestors on each page of it, either side of a page's end: each one script that walks nothing.
    for (const at of [1_050, 599, 598, 99, 98, 1]) {
      const config = chain[at] as RunnableConfig;
      const seen = await commandsFor(client, keyPrefix, () => history(saver, config, ["m"]));
      expect(seen.length, `checkpoint ${at}`).toBeLessThanOrEqual(1 + 3);
      expect(await history(saver, config, ["m"]), `checkpoint ${at}`).toEqual(await history(cold, config, ["m"]));
    }
    client.disconnect();
  });

  it("refuses a budget that is not a whole number of bytes", () => {
    const client = newRedis();
    for (const bad of [{ maxBytes: -1 }, { maxBytes: 1.5 }, { size: 10 }, true]) {
      expect(() => new RedisSaver({ client, deltaHistoryCache: bad as never })).toThrow(InvalidOptionError);
    }
    client.disconnect();
  });
});

describe("DeltaHistoryCache", () => {
  const heldOf = (checkpointId: string, bytes: number): HeldHistory => ({
    checkpointId,
    epoch: "",
    // One ancestor whose bundle came on its own (entry 1): the piece is that bundle.
    pages: [
      {
        walked: ["m"],
        entries: Buffer.from([0, 0, 0, 1]),
        pieces: [Buffer.alloc(bytes)],
        seeds: [],
        visited: [{ id: "0", entries: 1 }],
      },
    ],
    bases: new Map(),
  });

  it("holds one history per thread and namespace, within maxBytes, dropping the least recently used", () => {
    const cache = new DeltaHistoryCache(3_000);
    cache.set("a", "", ["m"], heldOf("1", 800), cache.generation);
    cache.set("b", "", ["m"], heldOf("1", 800), cache.generation);
    cache.set("a", "", ["m"], heldOf("2", 800), cache.generation);
    expect(cache.get("a", "", ["m"])[0]?.checkpointId).toBe("2");
    expect(cache.get("b", "", ["m"])[0]?.checkpointId).toBe("1");
    // a was used before b: the third thread pushes a out.
    cache.set("c", "", ["m"], heldOf("1", 800), cache.generation);
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
    expect(cache.get("a", "", ["m"])).toEqual([]);
    expect(cache.get("b", "", ["m"])[0]?.checkpointId).toBe("1");
    expect(cache.get("c", "", ["m"])[0]?.checkpointId).toBe("1");
    // One history larger than the budget is not held at all.
    cache.set("d", "", ["m"], heldOf("1", 5_000), cache.generation);
    expect(cache.get("d", "", ["m"])).toEqual([]);
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
  });

  it("holds the newest checkpoint's history beside the last older one read, within maxBytes", () => {
    const cache = new DeltaHistoryCache(3_000);
    const held = () => cache.get("a", "", ["m"]).map((one) => one.checkpointId);
    cache.set("a", "", ["m"], heldOf("5", 500), cache.generation);
    cache.set("a", "", ["m"], heldOf("3", 500), cache.generation);
    expect(held()).toEqual(["5", "3"]);
    cache.set("a", "", ["m"], heldOf("4", 500), cache.generation);
    expect(held()).toEqual(["5", "4"]);
    // A newer checkpoint's history replaces both (its walk stopped at the tip, or the thread went elsewhere).
    cache.set("a", "", ["m"], heldOf("6", 500), cache.generation);
    expect(held()).toEqual(["6"]);
    // An older history that does not fit beside the tip is not held; the tip stays.
    cache.set("a", "", ["m"], heldOf("2", 2_500), cache.generation);
    expect(held()).toEqual(["6"]);
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
    // Other channels: a history of its own, the tip of another channel set is not kept.
    cache.set("a", "", ["n"], heldOf("1", 10), cache.generation);
    expect(cache.get("a", "", ["n"]).map((one) => one.checkpointId)).toEqual(["1"]);
    expect(held()).toEqual([]);
  });

  it("answers only for the same channels, forgets a thread's namespaces, and refuses what a load read before", () => {
    const cache = new DeltaHistoryCache(1 << 20);
    cache.set("a", "", ["m", "n"], heldOf("1", 10), cache.generation);
    cache.set("a", "child:1", ["m"], heldOf("1", 10), cache.generation);
    expect(cache.get("a", "", ["n", "m", "m"])[0]?.checkpointId).toBe("1");
    expect(cache.get("a", "", ["m"])).toEqual([]);
    // Ids and channel names may hold any character: no two threads, namespaces or channel sets share an entry.
    cache.set("b\0", "", ["x\0y"], heldOf("3", 10), cache.generation);
    expect(cache.get("b", "\0", ["x\0y"])).toEqual([]);
    expect(cache.get("b\0", "", ["x", "y"])).toEqual([]);
    expect(cache.get("b\0", "", ["x\0y"])[0]?.checkpointId).toBe("3");
    const before = cache.generation;
    cache.forgetThread("a");
    cache.forgetThread("b\0");
    expect(cache.get("a", "", ["m", "n"])).toEqual([]);
    expect(cache.get("a", "child:1", ["m"])).toEqual([]);
    expect(cache.bytes).toBe(0);
    // A load that began before the thread was forgotten does not hold what it read.
    cache.set("a", "", ["m"], heldOf("2", 10), before);
    expect(cache.get("a", "", ["m"])).toEqual([]);
  });

  it("hands a read's epoch to one load of that checkpoint, until a thread is forgotten, the oldest dropped first", () => {
    const cache = new DeltaHistoryCache(1 << 20);
    expect(cache.holdsThread("t")).toBe(false);
    cache.set("t", "", ["m"], heldOf("1", 10), cache.generation);
    expect(cache.holdsThread("t")).toBe(true);
    cache.observe("t", "\0" + "1", "e1");
    // Another thread or checkpoint has nothing; the field's own note serves one load only.
    expect(cache.takeObserved("u", "\0" + "1")).toBeUndefined();
    expect(cache.takeObserved("t", "\0" + "2")).toBeUndefined();
    expect(cache.takeObserved("t", "\0" + "1")).toBe("e1");
    expect(cache.takeObserved("t", "\0" + "1")).toBeUndefined();
    // A thread id holding NUL does not pass for another thread's field (a field holds one NUL: ns, NUL, id).
    cache.observe("t\0x", "\0" + "1", "e2");
    expect(cache.takeObserved("t", "x\0" + "1")).toBeUndefined();
    expect(cache.takeObserved("t\0x", "\0" + "1")).toBe("e2");
    // A read noted before this process forgot a thread (it removed or replaced history) answers nothing.
    cache.observe("t", "\0" + "3", "e3");
    cache.forgetThread("other");
    expect(cache.takeObserved("t", "\0" + "3")).toBeUndefined();
    // The oldest notes go first past the bound.
    for (let i = 0; i < 5000; i++) cache.observe("t", `\0${i}`, `e${i}`);
    expect(cache.takeObserved("t", "\0" + "0")).toBeUndefined();
    expect(cache.takeObserved("t", "\0" + "4999")).toBe("e4999");
  });
});
