/**
 * Retention (the `retention` option, prune, pin/unpin): every checkpoint a trimmed thread still holds reads exactly
 * as MemorySaver (which keeps everything) returns it, including DeltaChannel values rebuilt from the ancestors'
 * writes, subgraph namespaces, interrupted steps and forks; nothing a kept checkpoint needs is removed and no blob
 * is left that nothing needs.
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  Annotation,
  Command,
  DeltaChannel,
  END,
  interrupt,
  MemorySaver,
  messagesDeltaReducer,
  START,
  StateGraph,
} from "@langchain/langgraph";
import type { BaseCheckpointSaver, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, InvalidOptionError, RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { createSaverContext } from "../../src/saver/context.js";
import { pruneThreads } from "../../src/saver/prune.js";
import { retentionSlack } from "../../src/saver/retention.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { randomHistory } from "./random-history.js";
import { expectNoOrphanBlobs, writesWithoutCheckpoint } from "./retention-helpers.js";
import { collect } from "./saver-helpers.js";
import { TeeSaver } from "./tee-saver.js";

/**
 * Reads from the RedisSaver under test (with retention) and writes every put and putWrites to it, to `full` (a
 * RedisSaver that keeps everything) and to MemorySaver. A kept checkpoint must read exactly as the untrimmed
 * RedisSaver reads it (MemorySaver keeps channel values as put, also of a version another checkpoint stored a value
 * for), and a graph's state at it must load as MemorySaver's graph loads it.
 */
class RetentionTee extends TeeSaver {
  constructor(
    redis: RedisSaver,
    readonly full: RedisSaver,
  ) {
    super(redis, new MemorySaver(), [full]);
  }
}

/** The checkpoint id of a `ns\0id` field. */
const idOf = (field: string) => field.slice(field.indexOf("\0") + 1);

type Messages = BaseMessage[];
const deltaMessages = (snapshotFrequency: number) =>
  new DeltaChannel<Messages, Messages>(messagesDeltaReducer as (state: Messages, writes: Messages[]) => Messages, {
    snapshotFrequency,
  });

/**
 * A chat graph with what retention must respect: a DeltaChannel (snapshots every 4 updates, so kept checkpoints
 * lean on ancestors), a growing plain list (stored as delta blobs), a subgraph (its own namespace per call, with
 * its own DeltaChannel) on every third turn, and an interrupt on every fourth.
 */
function chatGraph(checkpointer: BaseCheckpointSaver) {
  const SubState = Annotation.Root({ messages: deltaMessages(3) });
  const sub = new StateGraph(SubState)
    .addNode("think", (state) => ({
      messages: [new AIMessage({ content: `thought ${state.messages.length}`, id: `t${state.messages.length}` })],
    }))
    .addNode("check", (state) => ({
      messages: [new AIMessage({ content: `checked ${state.messages.length}`, id: `c${state.messages.length}` })],
    }))
    .addEdge(START, "think")
    .addEdge("think", "check")
    .addEdge("check", END)
    .compile();
  const State = Annotation.Root({
    messages: deltaMessages(4),
    log: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
    turn: Annotation<number>(),
  });
  return new StateGraph(State)
    .addNode("agent", (state) => ({
      messages: [new AIMessage({ content: `answer ${state.messages.length}`, id: `a${state.messages.length}` })],
      log: [`agent saw ${state.messages.length} ${"x".repeat(300)}`],
    }))
    .addNode("sub", sub)
    .addNode("review", (state) => {
      const verdict = state.turn % 4 === 0 ? interrupt(`approve turn ${state.turn}?`) : "auto";
      return { log: [`review ${state.turn}: ${String(verdict)}`] };
    })
    .addEdge(START, "agent")
    .addConditionalEdges("agent", (state) => (state.turn % 3 === 0 ? "sub" : "review"), ["sub", "review"])
    .addEdge("sub", "review")
    .addEdge("review", END)
    .compile({ checkpointer });
}

/** Runs `turns` chat turns (resuming interrupts) on both graphs; forks once half-way from a kept checkpoint. */
async function chat(
  graphs: ReturnType<typeof chatGraph>[],
  threadId: string,
  turns: number,
  forkAt?: number,
): Promise<void> {
  const config = { configurable: { thread_id: threadId } };
  let current: RunnableConfig = config;
  for (let turn = 1; turn <= turns; turn++) {
    const input = { messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })], turn };
    if (turn === forkAt) {
      // Time travel: fork from a checkpoint three back (still kept) and go on from there.
      const history = await collect((graphs[0] as ReturnType<typeof chatGraph>).getStateHistory(config));
      const from = (history[3] as { config: RunnableConfig }).config;
      current = await (graphs[0] as ReturnType<typeof chatGraph>).updateState(from, { log: [`fork at ${turn}`] });
    }
    for (const graph of graphs) await graph.invoke(input, current);
    const state = await (graphs[0] as ReturnType<typeof chatGraph>).getState(config);
    if (state.tasks.some((task) => task.interrupts.length > 0)) {
      for (const graph of graphs) await graph.invoke(new Command({ resume: `ok ${turn}` }), config);
    }
    current = config;
  }
}

/** Kept checkpoints whose DeltaChannel value was compared through getDeltaChannelHistory (the case retention must
 * keep ancestors for): tests check that they exercised some. */
let rebuiltFromHistory = 0;

/**
 * Every checkpoint the trimmed saver still holds reads as the untrimmed one reads it, with MemorySaver's metadata,
 * parent and pending writes; each root state loads as MemorySaver's graph loads it.
 */
async function expectKeptMatchMemory(
  tee: RetentionTee,
  threadId: string,
  graphs?: { redis: ReturnType<typeof chatGraph>; memory: ReturnType<typeof chatGraph> },
): Promise<CheckpointTuple[]> {
  const kept = await collect(tee.redis.list({ configurable: { thread_id: threadId } }));
  let rebuilt = 0;
  for (const tuple of kept) {
    const where = JSON.stringify(tuple.config.configurable);
    expect(tuple, where).toEqual(await tee.full.getTuple(tuple.config));
    const expected = await tee.memory.getTuple(tuple.config);
    expect(expected, `MemorySaver has ${where}`).toBeDefined();
    expect(tuple.metadata).toEqual(expected?.metadata);
    expect(tuple.parentConfig).toEqual(expected?.parentConfig);
    expect(tuple.pendingWrites).toEqual(expected?.pendingWrites);
    expect(await tee.redis.getTuple(tuple.config)).toEqual(tuple);
    // What a DeltaChannel absent from the checkpoint is rebuilt from (LangGraph asks only for those): the kept
    // ancestors' writes back to the nearest stored value.
    if (!Object.hasOwn(tuple.checkpoint.channel_values, "messages")) {
      const history = { config: tuple.config, channels: ["messages"] };
      expect(await tee.redis.getDeltaChannelHistory(history), `history at ${where}`).toEqual(
        await tee.memory.getDeltaChannelHistory(history),
      );
      rebuilt += 1;
    }
    if (graphs !== undefined && tuple.config.configurable?.checkpoint_ns === "") {
      // Loading the state rebuilds the DeltaChannel from the kept ancestors' writes.
      const [actual, wanted] = await Promise.all([
        graphs.redis.getState(tuple.config),
        graphs.memory.getState(tuple.config),
      ]);
      expect(actual.values, `state at ${where}`).toEqual(wanted.values);
      expect(actual.next).toEqual(wanted.next);
    }
  }
  rebuiltFromHistory += rebuilt;
  return kept;
}

describe.each(targets)("RedisSaver retention ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });

  it("keepLast trims as the thread is written; every kept checkpoint reads as MemorySaver's", async () => {
    const keepLast = Number(process.env.KEEP_LAST ?? 5);
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("ret"), retention: { keepLast } });
    const tee = new RetentionTee(redis, new RedisSaver({ client, keyPrefix: testPrefix("full") }));
    const graph = chatGraph(tee);
    const memoryGraph = chatGraph(tee.memory);
    const rebuiltBefore = rebuiltFromHistory;
    await chat([graph], "chat", 24, 13);

    const kept = await expectKeptMatchMemory(tee, "chat", { redis: graph, memory: memoryGraph });
    const all = await collect(tee.memory.list({ configurable: { thread_id: "chat" } }));
    const root = kept.filter((t) => t.config.configurable?.checkpoint_ns === "");
    const rootAll = all.filter((t) => t.config.configurable?.checkpoint_ns === "");
    // The newest keepLast root checkpoints (list order) are all kept.
    expect(root.slice(0, keepLast).map((t) => t.checkpoint.id)).toEqual(
      rootAll.slice(0, keepLast).map((t) => t.checkpoint.id),
    );
    // Trimmed: far fewer than written, at most keepLast + slack + the DeltaChannel chain (4 updates, 3 per turn).
    expect(rootAll.length).toBeGreaterThan(60);
    expect(root.length).toBeLessThanOrEqual(keepLast + retentionSlack(keepLast) + 16);
    // Old subgraph namespaces went with the root steps they belonged to.
    const namespaces = new Set(kept.map((t) => t.config.configurable?.checkpoint_ns));
    const allNamespaces = new Set(all.map((t) => t.config.configurable?.checkpoint_ns));
    expect(allNamespaces.size).toBeGreaterThan(6);
    expect(namespaces.size).toBeLessThanOrEqual(3);
    expect(await expectNoOrphanBlobs(redis, "chat")).toBeGreaterThan(0);
    expect(rebuiltFromHistory - rebuiltBefore).toBeGreaterThan(3);

    // The thread goes on where it was, on the trimmed history.
    await chat([graph], "chat", 3);
    await expectKeptMatchMemory(tee, "chat", { redis: graph, memory: memoryGraph });
  });

  it("random histories (forks, namespaces, DeltaChannel seeds and writes, delta blobs) keep what they need", async () => {
    let leaned = 0;
    const rebuiltBefore = rebuiltFromHistory;
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const keepLast = 1 + (seed % 4);
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("rrh"), retention: { keepLast } });
      const tee = new RetentionTee(redis, new RedisSaver({ client, keyPrefix: testPrefix("full") }));
      await randomHistory([redis, tee.full, tee.memory], "t", seed, 70, {
        growingBytes: seed % 2 === 0 ? 600 : undefined,
        deltaChannels: ["messages"],
        exists: async (config) => (await redis.getTuple(config)) !== undefined,
        strandedWrites: true,
      });
      const kept = await expectKeptMatchMemory(tee, "t");
      const all = await collect(tee.memory.list({ configurable: { thread_id: "t" } }));
      expect(kept.length, `seed ${seed}`).toBeLessThan(all.length);
      // The newest keepLast root checkpoints are kept; so is the newest checkpoint of the other namespace when it
      // is newer than the oldest of those (an older namespace belongs to root steps no longer kept).
      const newest = (t: CheckpointTuple[], ns: string) =>
        t.filter((x) => x.config.configurable?.checkpoint_ns === ns).map((x) => x.checkpoint.id);
      const rootKept = newest(all, "").slice(0, keepLast);
      expect(newest(kept, "").slice(0, keepLast), `seed ${seed}`).toEqual(rootKept);
      const child = newest(all, "child:1")[0];
      if (child !== undefined && child >= (rootKept.at(-1) as string)) {
        expect(newest(kept, "child:1")[0], `seed ${seed}`).toBe(child);
      }
      // Kept beyond keepLast + slack only because a kept checkpoint's DeltaChannel value leans on them.
      const root = kept.filter((t) => t.config.configurable?.checkpoint_ns === "").length;
      if (root > keepLast + retentionSlack(keepLast)) leaned += 1;
      await expectNoOrphanBlobs(redis, "t");
      // Writes of steps never put stay only while their id is not older than every kept root checkpoint: the
      // option trims every few puts, so those older than the root checkpoints Redis still holds went, and a prune to
      // the same keepLast takes the rest.
      const strandedAll = await writesWithoutCheckpoint(client, tee.full.keyPrefix, "t");
      const oldestKept = rootKept.at(-1) as string;
      expect(strandedAll.filter((field) => idOf(field) < oldestKept).length, `seed ${seed}`).toBeGreaterThan(0);
      const oldestHeld = newest(kept, "").at(-1) as string;
      const stranded = await writesWithoutCheckpoint(client, redis.keyPrefix, "t");
      expect(
        stranded.filter((field) => idOf(field) < oldestHeld),
        `seed ${seed}`,
      ).toEqual([]);
      expect((await redis.prune(["t"], { keepLast })).incomplete).toEqual([]);
      await expectKeptMatchMemory(tee, "t");
      const afterPrune = await writesWithoutCheckpoint(client, redis.keyPrefix, "t");
      expect(
        afterPrune.filter((field) => idOf(field) < oldestKept),
        `seed ${seed}`,
      ).toEqual([]);
      const pruned = await redis.prune(["t"], { strategy: "keep_latest" });
      expect(pruned.incomplete).toEqual([]);
      await expectKeptMatchMemory(tee, "t");
      await expectNoOrphanBlobs(redis, "t");
      const latest = newest(all, "")[0] as string;
      const left = await writesWithoutCheckpoint(client, redis.keyPrefix, "t");
      expect(
        left.filter((field) => idOf(field) < latest),
        `seed ${seed}`,
      ).toEqual([]);
    }
    expect(leaned).toBeGreaterThan(0);
    expect(rebuiltFromHistory - rebuiltBefore).toBeGreaterThan(20);
  });

  it("prune leaves a long namespace's unneeded blobs to its sweep, which deletes exactly those", async () => {
    for (const seed of [21, 22, 23]) {
      const keepLast = 1 + (seed % 3);
      const swept = new RedisSaver({ client, keyPrefix: testPrefix("swp") });
      const tee = new RetentionTee(swept, new RedisSaver({ client, keyPrefix: testPrefix("chk") }));
      await randomHistory([swept, tee.full, tee.memory], "t", seed, 70, {
        growingBytes: seed % 2 === 0 ? 600 : undefined,
        deltaChannels: ["messages"],
        strandedWrites: true,
      });
      // The copy is pruned as a short thread is: each step checks the blobs it leaves. The thread under test as a
      // long one is: with a limit of 0, every step leaves them to the sweep.
      const expected = await tee.full.prune(["t"], { keepLast });
      const context = createSaverContext({
        client,
        keyPrefix: swept.keyPrefix,
        ttl: { refreshOnRead: false },
        serde: swept.serde,
        blobCheckLimit: 0,
      });
      const result = await pruneThreads(context, ["t"], { keepLast });
      expect(result, `seed ${seed}`).toEqual(expected);
      expect(result.blobs, `seed ${seed}`).toBeGreaterThan(0);
      const keys = saverThreadKeys(swept.keyPrefix, "t");
      const blobFields = async (saver: RedisSaver) =>
        (await client.hkeys(saverThreadKeys(saver.keyPrefix, "t").blobs)).sort();
      expect(await blobFields(swept), `seed ${seed}`).toEqual(await blobFields(tee.full));
      expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
      await expectKeptMatchMemory(tee, "t");
      await expectNoOrphanBlobs(swept, "t");

      // A prune interrupted before its sweep leaves the mark: the next prune sweeps, also with nothing to trim.
      const stored = await client.hgetallBuffer(keys.blobs);
      const [field, value] = Object.entries(stored).find(([, v]) => v[0] !== 2 && v[0] !== 4) as [string, Buffer];
      await client.hset(keys.blobs, `${field.slice(0, field.lastIndexOf("\0") + 1)}unneeded`, value);
      await client.hset(keys.runFences, "{sweep}", "1");
      // A copy carries the unneeded blob and the mark with it, so its own prune sweeps it too.
      await swept.copyThread("t", "copy");
      const copyKeys = saverThreadKeys(swept.keyPrefix, "copy");
      expect(await client.hget(copyKeys.runFences, "{sweep}")).toBe("1");
      expect((await swept.prune(["copy"], { keepLast })).blobs).toBe(1);
      expect(await client.hexists(copyKeys.runFences, "{sweep}")).toBe(0);
      await expectNoOrphanBlobs(swept, "copy");
      const again = await swept.prune(["t"], { keepLast });
      expect(again.checkpoints).toBe(0);
      expect(again.blobs).toBe(1);
      expect(await client.hexists(keys.runFences, "{sweep}")).toBe(0);
      await expectNoOrphanBlobs(swept, "t");
    }
  });

  it("prune trims existing threads; getStateHistory then walks the kept checkpoints", async () => {
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("prn") });
    const tee = new RetentionTee(redis, new RedisSaver({ client, keyPrefix: testPrefix("full") }));
    const graph = chatGraph(tee);
    const memoryGraph = chatGraph(tee.memory);
    await chat([graph], "a", 14, 8);
    await chat([graph], "b", 6);
    const before = (await collect(redis.list({ configurable: { thread_id: "a" } }))).length;

    const result = await redis.prune(["a", "b"], { keepLast: 3 });
    expect(result.pinned).toEqual([]);
    expect(result.incomplete).toEqual([]);
    expect(result.checkpoints).toBeGreaterThan(0);
    expect(result.blobs).toBeGreaterThan(0);
    for (const threadId of ["a", "b"]) {
      const kept = await expectKeptMatchMemory(tee, threadId, { redis: graph, memory: memoryGraph });
      expect(kept.length).toBeLessThan(before);
      await expectNoOrphanBlobs(redis, threadId);
      // getStateHistory over the kept root checkpoints equals MemorySaver's states at the same checkpoints.
      const history = await collect(graph.getStateHistory({ configurable: { thread_id: threadId } }));
      expect(history.length).toBe(kept.filter((t) => t.config.configurable?.checkpoint_ns === "").length);
      for (const state of history) {
        expect(state.values).toEqual((await memoryGraph.getState(state.config)).values);
      }
    }
    const remaining = result.checkpoints;
    // Pruning again removes nothing; keep_latest (the default) goes down to the latest and its chain.
    expect((await redis.prune(["a", "b"], { keepLast: 3 })).checkpoints).toBe(0);
    const latest = await redis.prune(["a"]);
    expect(latest.checkpoints).toBeGreaterThan(0);
    await expectKeptMatchMemory(tee, "a", { redis: graph, memory: memoryGraph });
    expect(remaining).toBeGreaterThan(0);

    // strategy "delete" removes the thread.
    const deleted = await redis.prune(["b"], { strategy: "delete" });
    expect(deleted.checkpoints).toBeGreaterThan(0);
    expect(await redis.getTuple({ configurable: { thread_id: "b" } })).toBeUndefined();
    expect(await client.exists(...saverThreadKeys(redis.keyPrefix, "b").all)).toBe(0);
  });

  it("pin exempts a thread from retention and prune; unpin ends it", async () => {
    const keepLast = 2;
    const redis = new RedisSaver({ client, keyPrefix: testPrefix("pin"), retention: { keepLast } });
    const tee = new RetentionTee(redis, new RedisSaver({ client, keyPrefix: testPrefix("full") }));
    const graph = chatGraph(tee);
    expect(await redis.pin("kept")).toBe(true);
    expect(await redis.pin("kept")).toBe(false);
    expect(await redis.isPinned("kept")).toBe(true);
    await chat([graph], "kept", 6);
    const all = await collect(tee.memory.list({ configurable: { thread_id: "kept" } }));
    expect(await collect(redis.list({ configurable: { thread_id: "kept" } }))).toHaveLength(all.length);
    const pruned = await redis.prune(["kept"], { strategy: "delete" });
    expect(pruned).toEqual({ checkpoints: 0, writes: 0, blobs: 0, pinned: ["kept"], leased: [], incomplete: [] });
    expect(await collect(redis.list({ configurable: { thread_id: "kept" } }))).toHaveLength(all.length);

    expect(await redis.unpin("kept")).toBe(true);
    expect(await redis.unpin("kept")).toBe(false);
    expect(await redis.isPinned("kept")).toBe(false);
    const result = await redis.prune(["kept"], { keepLast });
    expect(result.checkpoints).toBeGreaterThan(0);
    await expectKeptMatchMemory(tee, "kept", { redis: graph, memory: chatGraph(tee.memory) });
    await expectNoOrphanBlobs(redis, "kept");
  });

  it("the keepLatest TTL strategy trims idle threads to their latest checkpoint on sweepExpired", async () => {
    // Idle time well above what one operation takes on a loaded machine: the assertions about "not idle yet"
    // only need the sweep to run within it after the thread's last write.
    const idleMs = 3000;
    const redis = new RedisSaver({
      client,
      keyPrefix: testPrefix("kl"),
      ttl: { defaultTtlMs: idleMs, strategy: "keepLatest" },
    });
    const tee = new RetentionTee(redis, new RedisSaver({ client, keyPrefix: testPrefix("full") }));
    const graph = chatGraph(tee);
    await chat([graph], "pinned", 2);
    await redis.pin("pinned");
    await chat([graph], "idle", 5);
    const early = await redis.sweepExpired();
    expect(early.threads).toBe(0);
    const keys = saverThreadKeys(redis.keyPrefix, "idle");
    // No native expiry under keepLatest: the thread outlives its TTL.
    expect(await client.pttl(keys.checkpoints)).toBe(-1);

    await new Promise((resolve) => setTimeout(resolve, idleMs + 100));
    await chat([graph], "busy", 1);
    const sweep = await redis.sweepExpired();
    expect(sweep.threads).toBe(1);
    expect(sweep.pinned).toEqual(["pinned"]);
    expect(sweep.checkpoints).toBeGreaterThan(0);
    const kept = await expectKeptMatchMemory(tee, "idle", {
      redis: graph,
      memory: chatGraph(tee.memory),
    });
    const latest = await collect(
      tee.memory.list({ configurable: { thread_id: "idle", checkpoint_ns: "" } }, { limit: 1 }),
    );
    expect(kept[0]?.checkpoint.id).toBe(latest[0]?.checkpoint.id);
    await expectNoOrphanBlobs(redis, "idle");
    // The busy thread was not idle; the next sweep from nextSinceMs visits nothing already swept.
    expect((await collect(redis.list({ configurable: { thread_id: "busy" } }))).length).toBeGreaterThan(1);
    const again = await redis.sweepExpired({ sinceMs: sweep.nextSinceMs });
    expect(again.threads).toBe(0);
  });

  it("bad options and arguments are named errors", async () => {
    expect(() => new RedisSaver({ client, retention: { keepLast: 0 } })).toThrow(InvalidOptionError);
    expect(() => new RedisSaver({ client, retention: { keepLast: 2.5 } })).toThrow(/retention\.keepLast/);
    expect(() => new RedisSaver({ client, retention: { keeplast: 3 } as never })).toThrow(/did you mean `keepLast`/);
    expect(() => new RedisSaver({ client, ttl: { strategy: "keepLatest" } })).toThrow(/ttl\.defaultTtlMs/);
    expect(() => new RedisSaver({ client, ttl: { defaultTtlMs: 10, strategy: "archive" as never } })).toThrow(
      InvalidOptionError,
    );
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("bad") });
    await expect(saver.prune(["t"], { keepLast: -1 })).rejects.toThrow(/RedisSaver\.prune\.keepLast/);
    await expect(saver.prune(["t"], { keepLast: 2, strategy: "delete" })).rejects.toThrow(InvalidOptionError);
    await expect(saver.prune(["t"], { strategy: "keepLatest" as never })).rejects.toThrow(InvalidOptionError);
    await expect(saver.prune("t" as never)).rejects.toThrow(InvalidInputError);
    await expect(saver.prune([""])).rejects.toThrow(InvalidInputError);
    await expect(saver.pin("")).rejects.toThrow(InvalidInputError);
    await expect(saver.sweepExpired()).rejects.toThrow(InvalidInputError);
  });
});
