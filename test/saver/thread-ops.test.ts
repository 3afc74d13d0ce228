/**
 * copyThread and deleteForRuns: equal to MemorySaver holding the same result (a copy written as the same history
 * under the new thread id; the history without the deleted runs' checkpoints), on random histories with forks,
 * namespaces and concurrent writes; the run index's bytes; and the errors.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { type BaseCheckpointSaver, type CheckpointTuple, MemorySaver } from "@langchain/langgraph-checkpoint";
import { InvalidInputError, RedisSaver, ThreadExistsError } from "../../src/index.js";
import { saverLegacyRunThreadsKey, saverRunThreadsKey, saverThreadKeys } from "../../src/keys.js";
import { decodeRefs } from "../../src/saver/codec.js";
import { recordRefs } from "../../src/saver/record.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { CHANNELS, type HistoryStep, randomHistory } from "./random-history.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

/**
 * Everything list() returns for a thread (every namespace), by namespace, then newest first (MemorySaver lists
 * namespace by namespace, RedisSaver by checkpoint id across them).
 */
async function threadState(saver: BaseCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples = await collect(saver.list({ configurable: { thread_id: threadId } }));
  const key = (t: CheckpointTuple) => `${t.config.configurable?.checkpoint_ns}\0${t.checkpoint.id}`;
  return tuples.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0));
}

/** Delta histories of every checkpoint of the steps given, read through `saver` on `threadId`. */
async function histories(saver: BaseCheckpointSaver, threadId: string, steps: readonly HistoryStep[]) {
  return Promise.all(
    steps.map((step) =>
      saver.getDeltaChannelHistory({
        config: { configurable: { ...step.config.configurable, thread_id: threadId } },
        channels: [...CHANNELS],
      }),
    ),
  );
}

/** Blob fields the remaining checkpoints reference must be exactly the blob fields stored (no orphans, none lost). */
async function expectNoOrphanBlobs(saver: RedisSaver, threadId: string): Promise<void> {
  const keys = saverThreadKeys(saver.keyPrefix, threadId);
  const records = (await saver.client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  const referenced = new Set<string>();
  for (const [field, record] of Object.entries(records)) {
    const ns = field.slice(0, field.indexOf("\0"));
    const refs = decodeRefs(recordRefs(record, { key: keys.checkpoints, what: "record" }));
    for (const [channel, version] of refs.channels) referenced.add(`${ns}\0${channel}\0${version}`);
  }
  const stored = await saver.client.hkeys(keys.blobs);
  for (const field of stored) expect(referenced.has(field), `orphan blob ${JSON.stringify(field)}`).toBe(true);
}

describe.each(targets)("RedisSaver thread operations ($name)", ({ connect }) => {
  let client: ReturnType<typeof connect>;
  beforeAll(() => {
    client = connect();
  });

  it("copyThread: the copy reads like MemorySaver holding the same history under the new id", async () => {
    for (const seed of [11, 12, 13]) {
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("cp") });
      const memory = new MemorySaver();
      const steps = await randomHistory([redis, memory], "source", seed, 30);
      await randomHistory([memory], "copy", seed, 30);
      const before = await threadState(redis, "source");

      expect(await redis.copyThread("source", "copy")).toEqual({ checkpoints: 30 });

      expect(await threadState(redis, "copy")).toEqual(await threadState(memory, "copy"));
      expect(await threadState(redis, "source")).toEqual(before);
      expect(await histories(redis, "copy", steps)).toEqual(await histories(memory, "copy", steps));
      // The copy is found by list() across threads and by deleteForRuns, and is written like any thread after.
      const threads = new Set((await collect(redis.list({}))).map((t) => t.config.configurable?.thread_id));
      expect(threads).toEqual(new Set(["source", "copy"]));
      const latest = await redis.getTuple({ configurable: { thread_id: "copy" } });
      await redis.putWrites(latest?.config as RunnableConfig, [["messages", "after copy"]], "later");
      expect((await redis.getTuple({ configurable: { thread_id: "source" } }))?.pendingWrites).toEqual(
        (await memory.getTuple({ configurable: { thread_id: "source" } }))?.pendingWrites,
      );
    }
  });

  it("copyThread refuses a destination that has data, copies nothing from an empty source, checks its input", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("cpe") });
    const memory = new MemorySaver();
    await randomHistory([saver, memory], "a", 5, 4);
    await randomHistory([saver, memory], "b", 6, 3);
    const bBefore = await threadState(saver, "b");
    const error = await saver.copyThread("a", "b").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadExistsError);
    expect((error as ThreadExistsError).threadId).toBe("b");
    expect(await threadState(saver, "b")).toEqual(bBefore);

    expect(await saver.copyThread("nothing-here", "c")).toEqual({ checkpoints: 0 });
    expect(await saver.client.exists(...saverThreadKeys(saver.keyPrefix, "c").all)).toBe(0);
    await expect(saver.copyThread("a", "a")).rejects.toThrow(InvalidInputError);
    await expect(saver.copyThread("", "x")).rejects.toThrow(InvalidInputError);
    await expect(saver.copyThread("a", 7 as unknown as string)).rejects.toThrow(InvalidInputError);
  });

  it("deleteForRuns: what remains reads like MemorySaver given the history without those runs", async () => {
    for (const seed of [21, 22, 23]) {
      const redis = new RedisSaver({ client, keyPrefix: testPrefix("dr") });
      const full = new MemorySaver();
      const steps = await randomHistory([redis, full], "t", seed, 32);
      await redis.copyThread("t", "t-copy");
      const doomed = ["run-1", "run-3"];

      const removed = await redis.deleteForRuns(doomed);
      expect(removed.checkpoints).toBe(2 * steps.filter((s) => doomed.includes(s.runId)).length);

      // The reference: MemorySaver holding everything, minus the doomed runs' checkpoints and their writes.
      const expected = (await threadState(full, "t")).filter(
        (t) => !doomed.includes(String((t.metadata as { run_id?: string } | undefined)?.run_id)),
      );
      expect(await threadState(redis, "t")).toEqual(expected);
      expect((await threadState(redis, "t-copy")).map((t) => t.checkpoint.id)).toEqual(
        expected.map((t) => t.checkpoint.id),
      );
      await expectNoOrphanBlobs(redis, "t");
      for (const runId of doomed) expect(await client.exists(saverRunThreadsKey(redis.keyPrefix, runId))).toBe(0);
      // Kept runs can still be deleted later; then the thread is gone entirely.
      const rest = [...new Set(steps.map((s) => s.runId))].filter((r) => !doomed.includes(r));
      await redis.deleteForRuns(rest);
      expect(await client.exists(...saverThreadKeys(redis.keyPrefix, "t").all)).toBe(0);
    }
  });

  it("deleteForRuns also finds runs named only in the config's metadata (how LangGraph.js passes run_id)", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("drc") });
    const { Annotation, END, START, StateGraph } = await import("@langchain/langgraph");
    const State = Annotation.Root({
      log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("step", () => ({ log: ["step"] }))
      .addEdge(START, "step")
      .addEdge("step", END)
      .compile({ checkpointer: saver });
    const configurable = { thread_id: "chat" };
    await graph.invoke({ log: ["first"] }, { configurable, metadata: { run_id: "run-a" } });
    const afterFirst = await threadState(saver, "chat");
    await graph.invoke({ log: ["second"] }, { configurable, metadata: { run_id: "run-b" } });
    expect((await graph.getState({ configurable })).values.log).toEqual(["first", "step", "second", "step"]);

    // Rolling back run-b leaves the thread as run-a left it.
    await saver.deleteForRuns(["run-b"]);
    expect(await threadState(saver, "chat")).toEqual(afterFirst);
    expect((await graph.getState({ configurable })).values.log).toEqual(["first", "step"]);
    await saver.deleteForRuns([]);
    await saver.deleteForRuns(["no-such-run"]);
    await expect(saver.deleteForRuns([""])).rejects.toThrow(InvalidInputError);
    await expect(saver.deleteForRuns("run-a" as unknown as string[])).rejects.toThrow(InvalidInputError);
  });

  it("a run written by a saver with a TTL and one without keeps its threads' record for deleteForRuns", async () => {
    const keyPrefix = testPrefix("drmix");
    const timed = new RedisSaver({ client, keyPrefix, ttl: { defaultTtlMs: 600_000 } });
    const plain = new RedisSaver({ client, keyPrefix });
    const parents = new Map<string, RunnableConfig>();
    const put = async (saver: RedisSaver, threadId: string, step: number) => {
      const checkpoint = makeCheckpoint({ a: step }, { a: step + 2 });
      const metadata = { ...(step < 0 ? inputMetadata : loopMetadata(step)), run_id: "run-mix" };
      const config = parents.get(threadId) ?? { configurable: { thread_id: threadId, checkpoint_ns: "" } };
      parents.set(threadId, await saver.put(config, checkpoint, metadata, { a: step + 2 }));
    };
    await put(timed, "x", -1);
    await put(plain, "y", -1);
    // Written by the saver with a TTL after the one without: the record must not take a TTL again.
    await put(timed, "x", 0);
    await put(plain, "y", 0);
    await put(timed, "z", -1);
    const key = saverRunThreadsKey(keyPrefix, "run-mix");
    expect(await client.pttl(key)).toBe(-1);
    expect((await client.hkeys(key)).sort()).toEqual(["x", "y", "z"]);
    const removed = await plain.deleteForRuns(["run-mix"]);
    expect(removed.checkpoints).toBe(5);
  });

  it("a run's threads are a small hash; deleteForRuns also reads and empties the SET earlier releases kept", async () => {
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("drs") });
    const steps = await randomHistory([saver], "new", 31, 12);
    const runId = steps[0]?.runId as string;
    const key = saverRunThreadsKey(saver.keyPrefix, runId);
    expect(await client.type(key)).toBe("hash");
    expect(await client.hkeys(key)).toEqual(["new"]);
    expect(await client.object("ENCODING", key)).toBe("listpack");

    // A thread an earlier release wrote for the same run is named only in the run's SET: it is found and cleaned too.
    await randomHistory([saver], "old", 31, 12);
    const legacy = saverLegacyRunThreadsKey(saver.keyPrefix, runId);
    await client.hdel(key, "old");
    await client.sadd(legacy, "old");
    const before = (await threadState(saver, "old")).length;
    const removed = await saver.deleteForRuns([runId]);
    const ofRun = steps.filter((s) => s.runId === runId).length;
    expect(removed.checkpoints).toBe(2 * ofRun); // one per step, on each of the two threads
    expect((await threadState(saver, "old")).length).toBe(before - ofRun);
    expect(await client.exists(key, legacy)).toBe(0);
  });
});
