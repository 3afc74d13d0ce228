/**
 * RedisSaver with the `offline` option against a real server reached through a loopback proxy the test owns:
 * cutting the proxy makes Redis unreachable for the saver (and only for it). Writes go to the journal, reads answer
 * from local state, the switch is an event, and when the proxy is restored the journal is replayed in order; a
 * thread advanced by another client meanwhile is forked, never overwritten.
 */
import { copyFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver, Checkpoint, CheckpointTuple } from "@langchain/langgraph-checkpoint";
import type { Redis } from "ioredis";
import {
  InvalidOptionError,
  JournalFullError,
  type OfflineConflict,
  OfflineReadError,
  RedisSaver,
  type ReplayResult,
} from "../../src/index.js";
import { newRedis, testPrefix } from "../helpers/redis.js";
import { deltaReplyGraph } from "../saver/delta-graph.js";
import { nextOnline, offlineFixtures, quickOffline } from "./offline-fixtures.js";

const { cleanup, journalDir, proxied } = offlineFixtures();

function offlineSaver(client: Redis, keyPrefix: string, dir: string, extra: Record<string, unknown> = {}) {
  const saver = new RedisSaver({
    client,
    keyPrefix,
    offline: quickOffline(dir, extra),
  });
  cleanup.push(() => saver.close());
  return saver;
}

let clock = 0;
/** Checkpoint ids that sort by creation, like LangGraph's. */
function newId(): string {
  clock += 1;
  return `1f${Date.now().toString(16).padStart(12, "0")}-${String(clock).padStart(8, "0")}`;
}

function checkpoint(id: string, values: Record<string, number>, versions: Record<string, number>): Checkpoint {
  return {
    v: 4,
    id,
    ts: new Date().toISOString(),
    channel_values: values,
    channel_versions: versions,
    versions_seen: {},
  };
}

const meta = (step: number) => ({ source: "loop" as const, step, parents: {} });
const cfg = (thread: string, id?: string) => ({
  configurable: { thread_id: thread, checkpoint_ns: "", ...(id ? { checkpoint_id: id } : {}) },
});

async function ids(saver: RedisSaver, thread: string): Promise<string[]> {
  const found: string[] = [];
  for await (const tuple of saver.list(cfg(thread))) found.push(tuple.checkpoint.id);
  return found;
}

/** The DeltaChannel chat, a snapshot every 3 updates unless told: a load needs the ancestors' writes. */
const deltaChat = (checkpointer: BaseCheckpointSaver, snapshotFrequency = 3) =>
  deltaReplyGraph(checkpointer, snapshotFrequency);

const transcript = (values: unknown) =>
  ((values as { messages?: BaseMessage[] }).messages ?? []).map((m) => `${m.getType()}: ${m.content}`);

const ask = (turn: number) => ({ messages: [new HumanMessage({ content: `question ${turn}`, id: `q${turn}` })] });

type Chat = ReturnType<typeof deltaChat>;

/** One turn on `graph` and on `reference` (MemorySaver): the outputs must match. */
const turnAgainst = (graph: Chat, reference: Chat, config: object) => async (turn: number) => {
  expect(transcript(await graph.invoke(ask(turn), config))).toEqual(
    transcript(await reference.invoke(ask(turn), config)),
  );
};

/** Redis holds the whole thread: a saver that holds nothing of it reads the reference's state. */
async function expectRedisHolds(keyPrefix: string, config: object, reference: Chat): Promise<void> {
  const fresh = deltaChat(new RedisSaver({ client: newRedis(), keyPrefix, deltaHistoryCache: false }));
  expect(transcript((await fresh.getState(config)).values)).toEqual(
    transcript((await reference.getState(config)).values),
  );
}

describe("RedisSaver offline", () => {
  it("journals writes while Redis is unreachable, answers reads locally, and replays them in order", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const dir = journalDir();
    const saver = offlineSaver(client, prefix, dir);
    const direct = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    const events: string[] = [];
    saver.on("offline", () => events.push("offline")).on("online", () => events.push("online"));

    const thread = testPrefix("thread");
    const first = newId();
    await saver.put(cfg(thread), checkpoint(first, { n: 1, keep: 7 }, { n: 1, keep: 1 }), meta(0), { n: 1, keep: 1 });
    expect(saver.offlineState).toBe("online");

    await proxy.cut();
    const second = newId();
    const third = newId();
    const stored = await saver.put(
      cfg(thread, first),
      checkpoint(second, { n: 2, keep: 7 }, { n: 2, keep: 1 }),
      meta(1),
      {
        n: 2,
      },
    );
    expect(stored.configurable?.checkpoint_id).toBe(second);
    expect(saver.offlineState).toBe("offline");
    await saver.putWrites(cfg(thread, second), [["n", 10]], "task-a");
    await saver.put(cfg(thread, second), checkpoint(third, { n: 3, keep: 7 }, { n: 3, keep: 1 }), meta(2), { n: 3 });
    await saver.putWrites(cfg(thread, third), [["n", 11]], "task-b");
    expect(events).toEqual(["offline"]);
    expect(saver.offlinePendingRecords).toBe(4);
    expect(statSync(join(dir, "saver.journal")).size).toBeGreaterThan(0);

    // reads answer from what this process wrote
    const latest = (await saver.getTuple(cfg(thread))) as CheckpointTuple;
    expect(latest.checkpoint.id).toBe(third);
    expect(latest.checkpoint.channel_values).toEqual({ n: 3, keep: 7 });
    expect(latest.pendingWrites).toEqual([["task-b", "n", 11]]);
    expect(latest.parentConfig?.configurable?.checkpoint_id).toBe(second);
    expect((await saver.getTuple(cfg(thread, second)))?.pendingWrites).toEqual([["task-a", "n", 10]]);
    expect(await ids(saver, thread)).toEqual([third, second, first]);
    // ... and refuse, by name, what this process never saw
    await expect(saver.getTuple(cfg(testPrefix("unknown")))).rejects.toBeInstanceOf(OfflineReadError);
    // Redis itself has none of it yet
    expect(await ids(direct, thread)).toEqual([first]);

    const online = nextOnline(saver);
    await proxy.restore();
    const result = await online;
    expect(result).toMatchObject({ applied: 4, forked: 0, conflicts: [], rejected: [] });
    expect(events).toEqual(["offline", "online"]);
    expect(saver.offlineState).toBe("online");
    expect(statSync(join(dir, "saver.journal")).size).toBe(0);

    expect(await ids(direct, thread)).toEqual([third, second, first]);
    const replayed = (await direct.getTuple(cfg(thread))) as CheckpointTuple;
    expect(replayed.checkpoint.channel_values).toEqual({ n: 3, keep: 7 });
    expect(replayed.pendingWrites).toEqual([["task-b", "n", 11]]);
    expect((await direct.getTuple(cfg(thread, second)))?.pendingWrites).toEqual([["task-a", "n", 10]]);
  });

  it("keeps the offline branch as a fork when another client advanced the thread meanwhile, and reports it", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const saver = offlineSaver(client, prefix, journalDir());
    const other = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    const conflicts: OfflineConflict[] = [];
    saver.on("conflict", (conflict) => conflicts.push(conflict));

    const thread = testPrefix("thread");
    const base = newId();
    await saver.put(cfg(thread), checkpoint(base, { n: 1, who: 0 }, { n: 1, who: 1 }), meta(0), { n: 1, who: 1 });
    await proxy.cut();
    const mine = newId();
    await saver.put(cfg(thread, base), checkpoint(mine, { n: 2, who: 1 }, { n: 2, who: 2 }), meta(1), { n: 2, who: 2 });
    await saver.putWrites(cfg(thread, mine), [["n", 5]], "mine-task");
    // another process reaches Redis and advances the same thread from the same base
    const theirs = newId();
    await other.put(cfg(thread, base), checkpoint(theirs, { n: 2, who: 2 }, { n: 2, who: 2 }), meta(1), {
      n: 2,
      who: 2,
    });

    const online = nextOnline(saver);
    await proxy.restore();
    const result = await online;
    expect(result.forked).toBe(2);
    expect(result.applied).toBe(0);
    expect(result.conflicts).toHaveLength(1);
    const conflict = result.conflicts[0] as Extract<OfflineConflict, { kind: "thread" }>;
    expect(conflict).toMatchObject({
      kind: "thread",
      threadId: thread,
      checkpointNs: "",
      reason: "advanced",
      baseCheckpointId: base,
      remoteCheckpointId: theirs,
      checkpointIds: [mine],
    });
    expect(conflicts).toEqual(result.conflicts);

    // the thread is as the other process left it; nothing of the offline branch was mixed in
    expect(await ids(other, thread)).toEqual([theirs, base]);
    expect((await other.getTuple(cfg(thread)))?.checkpoint.channel_values).toEqual({ n: 2, who: 2 });
    // the fork holds the offline branch, whole (every channel value, its writes)
    const fork = (await other.getTuple(cfg(conflict.forkThreadId))) as CheckpointTuple;
    expect(fork.checkpoint.id).toBe(mine);
    expect(fork.checkpoint.channel_values).toEqual({ n: 2, who: 1 });
    expect(fork.pendingWrites).toEqual([["mine-task", "n", 5]]);
    expect(fork.parentConfig?.configurable?.checkpoint_id).toBe(base);
    // and this saver reads the thread from Redis again
    expect((await saver.getTuple(cfg(thread)))?.checkpoint.id).toBe(theirs);
  });

  it("replays idempotently: the same journal applied a second time changes nothing", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const dir = journalDir();
    const saver = offlineSaver(client, prefix, dir);
    const thread = testPrefix("thread");
    const base = newId();
    await saver.put(cfg(thread), checkpoint(base, { n: 0 }, { n: 1 }), meta(0), { n: 1 });
    await proxy.cut();
    let parent = base;
    for (let step = 1; step <= 5; step++) {
      const id = newId();
      await saver.put(cfg(thread, parent), checkpoint(id, { n: step }, { n: step + 1 }), meta(step), { n: step + 1 });
      await saver.putWrites(cfg(thread, id), [["n", step * 10]], `task-${step}`);
      parent = id;
    }
    const copy = journalDir();
    copyFileSync(join(dir, "saver.journal"), join(copy, "saver.journal"));

    const online = nextOnline(saver);
    await proxy.restore();
    expect((await online).applied).toBe(10);
    const direct = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    const snapshot = async () => {
      const tuples: unknown[] = [];
      for await (const tuple of direct.list(cfg(thread))) tuples.push([tuple.checkpoint, tuple.pendingWrites]);
      return tuples;
    };
    const once = await snapshot();
    expect(once).toHaveLength(6);

    // a second saver starts on the copy (as a process would after a crash before its journal was cleared)
    const again = offlineSaver(newRedis(), prefix, copy);
    const second = await waitForResult(again);
    expect(second).toMatchObject({ applied: 10, forked: 0, conflicts: [] });
    expect(await snapshot()).toEqual(once);
    expect(readFileSync(join(copy, "saver.journal")).length).toBe(0);
  });

  it("after a restart while still offline, reads come from the journal and the journal is replayed once Redis answers", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const dir = journalDir();
    const thread = testPrefix("thread");
    const first = offlineSaver(client, prefix, dir);
    const base = newId();
    await first.put(cfg(thread), checkpoint(base, { n: 1 }, { n: 1 }), meta(0), { n: 1 });
    await proxy.cut();
    const offlineId = newId();
    await first.put(cfg(thread, base), checkpoint(offlineId, { n: 2 }, { n: 2 }), meta(1), { n: 2 });
    await first.close(); // the process goes away with its journal on disk

    const restarted = offlineSaver(client, prefix, dir);
    const tuple = await restarted.getTuple(cfg(thread));
    expect(tuple?.checkpoint.id).toBe(offlineId);
    expect(restarted.offlineState).toBe("offline");
    const online = nextOnline(restarted);
    await proxy.restore();
    expect((await online).applied).toBe(1);
    const direct = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    expect(await ids(direct, thread)).toEqual([offlineId, base]);
  });

  it("fails a write with JournalFullError when the journal would pass maxBytes (nothing stored)", async () => {
    const { proxy, client } = await proxied();
    const saver = offlineSaver(client, testPrefix("off"), journalDir(), { maxBytes: 2000 });
    const thread = testPrefix("thread");
    await proxy.cut();
    const big = "x".repeat(1500);
    await saver.put(cfg(thread), { ...checkpoint(newId(), {}, {}), channel_values: { big } }, meta(0), {});
    await expect(
      saver.put(cfg(thread), { ...checkpoint(newId(), {}, {}), channel_values: { big } }, meta(1), {}),
    ).rejects.toBeInstanceOf(JournalFullError);
    expect(saver.offlinePendingRecords).toBe(1);
  });

  it("lets a LangGraph graph keep running through the outage; every step is in Redis after the replay", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const saver = offlineSaver(client, prefix, journalDir());
    const State = Annotation.Root({
      log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("plan", () => ({ log: ["plan"] }))
      .addNode("act", () => ({ log: ["act"] }))
      .addEdge(START, "plan")
      .addEdge("plan", "act")
      .addEdge("act", END)
      .compile({ checkpointer: saver });
    const config = { configurable: { thread_id: testPrefix("thread") } };
    await graph.invoke({ log: ["start"] }, config);
    await proxy.cut();
    const during = await graph.invoke({ log: ["again"] }, config);
    expect(during.log).toEqual(["start", "plan", "act", "again", "plan", "act"]);
    expect((await graph.getState(config)).values.log).toHaveLength(6);

    const online = nextOnline(saver);
    await proxy.restore();
    const result = await online;
    expect(result.conflicts).toEqual([]);
    expect(result.applied).toBeGreaterThan(0);
    const direct = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    const after = await direct.getTuple(config);
    expect(after?.checkpoint.channel_values).toMatchObject({ log: during.log });
  });

  it("answers offline with what was stored, not with objects changed in place since (as Redis would)", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const saver = offlineSaver(client, prefix, journalDir());
    const thread = testPrefix("thread");
    const order = { status: "new", items: ["a"] };
    const first = newId();
    const stored = checkpoint(first, {}, { order: 1 });
    stored.channel_values = { order };
    await saver.put(cfg(thread), stored, meta(0), { order: 1 });
    const write = { note: "checked" };
    await saver.putWrites(cfg(thread, first), [["order", write]], "task-a");
    // The caller changes what it handed over (a node that mutates its state in place)...
    order.status = "paid";
    order.items.push("b");
    write.note = "changed";
    // ... and what a read handed back.
    const read = (await saver.getTuple(cfg(thread))) as CheckpointTuple;
    (read.checkpoint.channel_values.order as typeof order).items.push("c");

    await proxy.cut();
    const second = newId();
    const next = checkpoint(second, {}, { order: 2 });
    next.channel_values = { order };
    await saver.put(cfg(thread, first), next, meta(1), { order: 2 });
    expect(saver.offlineState).toBe("offline");
    order.items.push("d");

    const offlineFirst = (await saver.getTuple(cfg(thread, first))) as CheckpointTuple;
    expect(offlineFirst.checkpoint.channel_values).toEqual({ order: { status: "new", items: ["a"] } });
    expect(offlineFirst.pendingWrites).toEqual([["task-a", "order", { note: "checked" }]]);
    const offlineSecond = (await saver.getTuple(cfg(thread))) as CheckpointTuple;
    expect(offlineSecond.checkpoint.channel_values).toEqual({ order: { status: "paid", items: ["a", "b"] } });
    // A tuple read offline is the caller's own: changing it changes no later read.
    (offlineSecond.checkpoint.channel_values.order as typeof order).items.length = 0;
    expect((await saver.getTuple(cfg(thread)))?.checkpoint.channel_values).toEqual({
      order: { status: "paid", items: ["a", "b"] },
    });
    const listed: unknown[] = [];
    for await (const tuple of saver.list(cfg(thread))) listed.push(tuple.checkpoint.channel_values);
    expect(listed).toEqual([
      { order: { status: "paid", items: ["a", "b"] } },
      { order: { status: "new", items: ["a"] } },
    ]);
  });

  it("keeps each state of a graph whose reducer appends in place, offline as MemorySaver does", async () => {
    const { proxy, client } = await proxied();
    const saver = offlineSaver(client, testPrefix("off"), journalDir());
    const State = Annotation.Root({
      // Appends to the array it is given: LangGraph hands the reducer the channel's value, which a run loaded from
      // local state got from there.
      log: Annotation<string[]>({
        reducer: (a, b) => {
          a.push(...b);
          return a;
        },
        default: () => [],
      }),
    });
    const build = (checkpointer: BaseCheckpointSaver) =>
      new StateGraph(State)
        .addNode("plan", () => ({ log: ["plan"] }))
        .addNode("act", () => ({ log: ["act"] }))
        .addEdge(START, "plan")
        .addEdge("plan", "act")
        .addEdge("act", END)
        .compile({ checkpointer });
    const graph = build(saver);
    const reference = build(new MemorySaver());
    // durability "sync": each step's put is stored before the next step runs (with "async", LangGraph may hand a
    // put a value a later step already changed in place, whatever the saver).
    const config = { configurable: { thread_id: testPrefix("thread") }, durability: "sync" as const };
    const history = async (g: ReturnType<typeof build>) => {
      const states: string[][] = [];
      for await (const state of g.getStateHistory(config)) states.push([...(state.values.log ?? [])]);
      return states;
    };
    for (const g of [graph, reference]) await g.invoke({ log: ["start"] }, config);
    await proxy.cut();
    for (const turn of ["again", "more"]) for (const g of [graph, reference]) await g.invoke({ log: [turn] }, config);
    expect(saver.offlineState).toBe("offline");
    // Offline, the states come from this process's local state: the two offline turns and the last state before.
    const offline = await history(graph);
    expect(offline).toEqual((await history(reference)).slice(0, offline.length));
    expect(offline.length).toBeGreaterThanOrEqual(9);
  });

  it("runs a DeltaChannel graph through the outage: each turn loads its state from what the process holds", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const dir = journalDir();
    const saver = offlineSaver(client, prefix, dir);
    const reference = deltaChat(new MemorySaver());
    const config = { configurable: { thread_id: testPrefix("thread") } };
    const turn = turnAgainst(deltaChat(saver), reference, config);
    for (let t = 0; t < 3; t++) await turn(t);
    await proxy.cut();
    // Offline, each invoke loads the thread (getTuple, then the DeltaChannel's history) across snapshots.
    for (let t = 3; t < 7; t++) await turn(t);
    expect(saver.offlineState).toBe("offline");
    // A process started on the same journal while offline goes on from it: the last snapshot is in the journal.
    await saver.close();
    const restarted = offlineSaver(client, prefix, dir);
    const restartedTurn = turnAgainst(deltaChat(restarted), reference, config);
    await restartedTurn(7);

    const online = nextOnline(restarted);
    await proxy.restore();
    expect((await online).conflicts).toEqual([]);
    await expectRedisHolds(prefix, config, reference);
    await restartedTurn(8);
  });

  it.each(["sync", "exit"] as const)(
    "runs a DeltaChannel graph through the outage with durability %s",
    async (mode) => {
      const { proxy, client } = await proxied();
      const prefix = testPrefix("off");
      const reference = deltaChat(new MemorySaver());
      const config = { configurable: { thread_id: testPrefix("thread") }, durability: mode };
      const saver = offlineSaver(client, prefix, journalDir());
      const turn = turnAgainst(deltaChat(saver), reference, config);
      for (let t = 0; t < 3; t++) await turn(t);
      await proxy.cut();
      for (let t = 3; t < 7; t++) await turn(t);
      const online = nextOnline(saver);
      await proxy.restore();
      expect((await online).conflicts).toEqual([]);
      await expectRedisHolds(prefix, config, reference);
    },
  );

  /**
   * A chat with a snapshot every 8 updates: `turns` turns online, `read` by the same process just before Redis goes
   * away, then 2 turns offline, each equal to MemorySaver's; Redis holds the thread after the replay.
   */
  async function outageAfterRead(turns: number, read: (graph: Chat, reference: Chat, config: object) => Promise<void>) {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const saver = offlineSaver(client, prefix, journalDir());
    const reference = deltaChat(new MemorySaver(), 8);
    const config = { configurable: { thread_id: testPrefix("thread") } };
    const graph = deltaChat(saver, 8);
    const turn = turnAgainst(graph, reference, config);
    for (let t = 0; t < turns; t++) await turn(t);
    await read(graph, reference, config);
    await proxy.cut();
    for (let t = turns; t < turns + 2; t++) await turn(t);
    expect(saver.offlineState).toBe("offline");
    const online = nextOnline(saver);
    await proxy.restore();
    expect((await online).conflicts).toEqual([]);
    await expectRedisHolds(prefix, config, reference);
  }

  it("goes on offline after the process read the thread's whole history (getStateHistory) just before", async () => {
    // After 6 turns (12 updates) the newest state's history reaches 2 turns back; the loads of states past the
    // newest snapshot read older histories.
    await outageAfterRead(6, async (graph, reference, config) => {
      const states: unknown[] = [];
      for await (const state of graph.getStateHistory(config)) states.push(transcript(state.values));
      const expected: unknown[] = [];
      for await (const state of reference.getStateHistory(config)) expected.push(transcript(state.values));
      expect(states).toEqual(expected);
    });
  });

  it("goes on offline after the process read the newest state (getState) just before", async () => {
    // A UI showing the conversation: the newest checkpoint's history is what the process now holds.
    await outageAfterRead(3, async (graph, reference, config) => {
      expect(transcript((await graph.getState(config)).values)).toEqual(
        transcript((await reference.getState(config)).values),
      );
    });
  });

  it("refuses a DeltaChannel history whose ancestors this process does not hold (OfflineReadError)", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("off");
    const dir = journalDir();
    const config = { configurable: { thread_id: testPrefix("thread") } };
    // No snapshot within 100 updates: the history of any checkpoint reaches back to the thread's start.
    const first = offlineSaver(client, prefix, dir);
    await deltaChat(first, 100).invoke(ask(0), config);
    await deltaChat(first, 100).invoke(ask(1), config);
    await proxy.cut();
    await deltaChat(first, 100).invoke(ask(2), config);
    await first.close();
    // Restarted offline: it knows the journal's checkpoints, not the ones before them.
    const restarted = offlineSaver(client, prefix, dir);
    const latest = await restarted.getTuple(config);
    expect(latest).toBeDefined();
    const error = await restarted
      .getDeltaChannelHistory({ config: latest?.config ?? config, channels: ["messages"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfflineReadError);
    expect(String(error)).toMatch(/does not hold the ancestors of checkpoint/);
    await expect(deltaChat(restarted, 100).invoke(ask(3), config)).rejects.toThrow(OfflineReadError);
    const online = nextOnline(restarted);
    await proxy.restore();
    expect((await online).conflicts).toEqual([]);
    const reference = deltaChat(new MemorySaver(), 100);
    for (let t = 0; t < 3; t++) await reference.invoke(ask(t), config);
    const after = await deltaChat(restarted, 100).invoke(ask(3), config);
    expect(transcript(after)).toEqual(transcript(await reference.invoke(ask(3), config)));
  });

  it("validates the option strictly", () => {
    expect(() => new RedisSaver({ client: newRedis(), offline: { journalDir: "/x", maxbytes: 1 } as never })).toThrow(
      InvalidOptionError,
    );
    expect(() => new RedisSaver({ client: newRedis(), offline: { journalDir: "" } })).toThrow(/offline.journalDir/);
  });
});

/** Replays a saver's journal, retrying while it is still being opened. */
async function waitForResult(saver: RedisSaver): Promise<ReplayResult> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await saver.replayOffline();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
