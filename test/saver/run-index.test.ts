/**
 * The run index kept per (run, namespace): a member `runId\0ns\0\0firstId\0count` per run and namespace, the run id
 * on a refs line of each checkpoint. Its counts through puts, re-puts, retention, prune, deleteForRuns and
 * copyThread (always exactly the checkpoints carrying the run's line, firstId never after the first of them); runs
 * spanning namespaces, interleaved runs, out-of-order ids, and threads that also hold an earlier release's
 * per-checkpoint members.
 */
import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import { type CheckpointMetadata, uuid6 } from "@langchain/langgraph-checkpoint";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver } from "../../src/index.js";
import { saverRunThreadsKey, saverThreadKeys } from "../../src/keys.js";
import { checkpointField, decodeRefs, escapePart } from "../../src/saver/codec.js";
import { recordRefs } from "../../src/saver/record.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { expectNoOrphanBlobs } from "./retention-helpers.js";
import { collect, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

type Members = Record<string, { firstId: string; count: number }>;

/** The (run, ns) members of this release, by `run ns`. */
async function members(client: RedisClient, keyPrefix: string, threadId: string): Promise<Members> {
  const out: Members = {};
  for (const member of await client.zrange(saverThreadKeys(keyPrefix, threadId).byRun, "0", "-1")) {
    const parts = member.split("\0");
    if (parts.length !== 5) continue;
    const [run, ns, , firstId, count] = parts as [string, string, string, string, string];
    out[`${run} ${ns}`] = { firstId, count: Number(count) };
  }
  return out;
}

/** What the members must say, from the stored records' run lines: the count and the smallest id per (run, ns). */
async function expectExactIndex(client: RedisClient, keyPrefix: string, threadId: string): Promise<Members> {
  const keys = saverThreadKeys(keyPrefix, threadId);
  const records = (await client.hgetallBuffer(keys.checkpoints)) as Record<string, Buffer>;
  const expected: Record<string, { firstId: string; count: number }> = {};
  for (const [field, record] of Object.entries(records)) {
    const cut = field.indexOf("\0");
    const [ns, id] = [field.slice(0, cut), field.slice(cut + 1)];
    const refs = recordRefs(record, { key: keys.checkpoints, what: "record" });
    const runLines = refs.split("\n").filter((line) => line.startsWith("\x02"));
    expect(runLines.length).toBeLessThanOrEqual(1);
    if (runLines[0] === undefined) continue;
    const key = `${runLines[0].slice(1)} ${ns}`;
    const entry = expected[key] ?? { firstId: id, count: 0 };
    entry.count += 1;
    if (Buffer.compare(Buffer.from(id), Buffer.from(entry.firstId)) < 0) entry.firstId = id;
    expected[key] = entry;
  }
  const actual = await members(client, keyPrefix, threadId);
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, { count, firstId }] of Object.entries(expected)) {
    expect(actual[key]?.count, key).toBe(count);
    // firstId may lag behind after retention removed the run's oldest checkpoints; never ahead of them.
    expect(Buffer.compare(Buffer.from(actual[key]?.firstId ?? "~"), Buffer.from(firstId)), key).toBeLessThanOrEqual(0);
  }
  return actual;
}

describe.each(targets)("run index per (run, namespace) ($name)", ({ connect }) => {
  let client: RedisClient;
  beforeAll(() => {
    client = connect();
  });

  let version = 0;
  /** Puts checkpoint `id` (channel x = value) under the run, its parent the previous one put in that namespace. */
  function writer(saver: RedisSaver, threadId: string) {
    const last = new Map<string, string>();
    return async (id: string, runId: string | undefined, ns = "", value: unknown = id): Promise<RunnableConfig> => {
      const parent = last.get(ns);
      const config = {
        configurable: { thread_id: threadId, checkpoint_ns: ns, ...(parent ? { checkpoint_id: parent } : {}) },
      };
      const metadata = { ...loopMetadata(1), ...(runId ? { run_id: runId } : {}) } as CheckpointMetadata;
      version += 1;
      const stored = await saver.put(config, makeCheckpoint({ x: value }, { x: version }, id), metadata, {
        x: version,
      });
      last.set(ns, id);
      return stored;
    };
  }

  async function ids(saver: RedisSaver, threadId: string, ns = ""): Promise<string[]> {
    const tuples = await collect(saver.list({ configurable: { thread_id: threadId, checkpoint_ns: ns } }));
    return tuples.map((t) => t.checkpoint.id).sort();
  }

  it("one member per (run, namespace), counted through puts and re-puts; the run id rides on the refs", async () => {
    const keyPrefix = testPrefix("ri");
    const saver = new RedisSaver({ client, keyPrefix });
    const put = writer(saver, "t");
    await put("a1", "run-a");
    await put("a2", "run-a");
    await put("a3", "run-a");
    await put("b1", "run-b");
    await put("s1", "run-b", "sub");
    await put("n1", undefined);
    expect(await expectExactIndex(client, keyPrefix, "t")).toEqual({
      "run-a ": { firstId: "a1", count: 3 },
      "run-b ": { firstId: "b1", count: 1 },
      "run-b sub": { firstId: "s1", count: 1 },
    });
    const keys = saverThreadKeys(keyPrefix, "t");
    expect(await client.zcard(keys.byRun)).toBe(3);
    // The refs' run line is no channel: readers see the channel lines only.
    const record = (await client.hgetBuffer(keys.checkpoints, checkpointField("", "a2"))) as Buffer;
    const refs = recordRefs(record, { key: keys.checkpoints, what: "record" });
    expect(refs.split("\n").at(-1)).toBe("\x02run-a");
    expect(decodeRefs(refs).channels).toEqual([["x", "2"]]);
    expect(
      (await saver.getTuple({ configurable: { thread_id: "t", checkpoint_id: "a2" } }))?.checkpoint.channel_values,
    ).toEqual({ x: "a2" });

    // A retry of the same put counts once; a re-put under another run moves the checkpoint to that run.
    const again = writer(saver, "t");
    await again("a2", "run-a");
    await again("a3", "run-b");
    expect(await expectExactIndex(client, keyPrefix, "t")).toMatchObject({
      "run-a ": { firstId: "a1", count: 2 },
      "run-b ": { firstId: "a3", count: 2 },
    });
    // A re-put without a run id leaves the count as it was (too high only lengthens deleteForRuns' walk).
    await writer(saver, "t")("a1", undefined);
    expect((await members(client, keyPrefix, "t"))["run-a "]).toEqual({ firstId: "a1", count: 2 });
    expect(await saver.deleteForRuns(["run-a"])).toMatchObject({ checkpoints: 1 });
    expect(await ids(saver, "t")).toEqual(["a1", "a3", "b1", "n1"]);
    expect(await saver.deleteForRuns(["run-b"])).toMatchObject({ checkpoints: 3 });
    expect(await ids(saver, "t")).toEqual(["a1", "n1"]);
    expect(await ids(saver, "t", "sub")).toEqual([]);
    expect(await client.exists(keys.byRun)).toBe(0);
  });

  it("deleteForRuns finds a run's checkpoints among other runs', in any id order, across namespaces", async () => {
    const keyPrefix = testPrefix("rio");
    const saver = new RedisSaver({ client, keyPrefix });
    const put = writer(saver, "t");
    // Ids out of order (put m, then c, then x), interleaved with run-y's and with no run's.
    await put("m", "run-x");
    await put("c", "run-x");
    await put("d", "run-y");
    await put("e", undefined);
    await put("x", "run-x");
    await put("b", "run-y");
    await put("k", "run-x", "sub:1");
    await put("a", "run-y", "sub:1");
    await put("z", "run-x", "sub:1");
    expect(await expectExactIndex(client, keyPrefix, "t")).toEqual({
      "run-x ": { firstId: "c", count: 3 },
      "run-y ": { firstId: "b", count: 2 },
      "run-x sub:1": { firstId: "k", count: 2 },
      "run-y sub:1": { firstId: "a", count: 1 },
    });
    expect(await saver.deleteForRuns(["run-x"])).toMatchObject({ checkpoints: 5 });
    expect(await ids(saver, "t")).toEqual(["b", "d", "e"]);
    expect(await ids(saver, "t", "sub:1")).toEqual(["a"]);
    await expectExactIndex(client, keyPrefix, "t");
    await expectNoOrphanBlobs(saver, "t");
    expect(await saver.deleteForRuns(["run-y"])).toMatchObject({ checkpoints: 3 });
    expect(await ids(saver, "t")).toEqual(["e"]);
    expect(await client.exists(saverThreadKeys(keyPrefix, "t").byRun)).toBe(0);
  });

  it("deleteForRuns pages through a long namespace where two runs alternate", async () => {
    const keyPrefix = testPrefix("rip");
    const saver = new RedisSaver({ client, keyPrefix });
    const put = writer(saver, "t");
    for (let i = 0; i < 60; i++) await put(`c${String(i).padStart(3, "0")}`, i % 2 === 0 ? "even" : "odd");
    expect(await expectExactIndex(client, keyPrefix, "t")).toEqual({
      "even ": { firstId: "c000", count: 30 },
      "odd ": { firstId: "c001", count: 30 },
    });
    expect(await saver.deleteForRuns(["odd"])).toEqual({ checkpoints: 30, writes: 0, blobs: 30 });
    expect(await ids(saver, "t")).toEqual(Array.from({ length: 30 }, (_, i) => `c${String(2 * i).padStart(3, "0")}`));
    await expectExactIndex(client, keyPrefix, "t");
    await expectNoOrphanBlobs(saver, "t");
  });

  it("LangGraph's ids: firstId keeps a 16-byte prefix, so a 36-character run id's members stay compact", async () => {
    const keyPrefix = testPrefix("riu");
    const saver = new RedisSaver({ client, keyPrefix });
    const put = writer(saver, "t");
    const runs = Array.from({ length: 5 }, () => randomUUID());
    const written: string[][] = runs.map(() => []);
    for (let turn = 0; turn < 3; turn++) {
      for (const [i, runId] of runs.entries()) {
        const id = uuid6(-1);
        written[i]?.push(id);
        await put(id, runId);
      }
    }
    const index = await expectExactIndex(client, keyPrefix, "t");
    for (const [i, runId] of runs.entries()) {
      expect(index[`${runId} `]).toEqual({ firstId: written[i]?.[0]?.slice(0, 16), count: 3 });
    }
    expect(await client.object("ENCODING", saverThreadKeys(keyPrefix, "t").byRun)).toBe("listpack");
    expect(await saver.deleteForRuns([runs[1] as string, runs[3] as string])).toMatchObject({ checkpoints: 6 });
    expect(await ids(saver, "t")).toEqual(
      written
        .filter((_, i) => i % 2 === 0)
        .flat()
        .sort(),
    );
    await expectExactIndex(client, keyPrefix, "t");
  });

  it("run ids that need escaping, and one run id the prefix of another", async () => {
    const keyPrefix = testPrefix("rie");
    const saver = new RedisSaver({ client, keyPrefix });
    const put = writer(saver, "t");
    await put("a", "run");
    await put("b", "run\nwith%odd\u0001bytes");
    await put("c", "run-2");
    await put("d", "run");
    expect(Object.keys(await expectExactIndex(client, keyPrefix, "t")).sort()).toEqual(
      ["run ", `${escapePart("run\nwith%odd\u0001bytes")} `, "run-2 "].sort(),
    );
    expect(await saver.deleteForRuns(["run"])).toMatchObject({ checkpoints: 2 });
    expect(await ids(saver, "t")).toEqual(["b", "c"]);
    expect(await saver.deleteForRuns(["run\nwith%odd\u0001bytes"])).toMatchObject({ checkpoints: 1 });
    expect(await ids(saver, "t")).toEqual(["c"]);
  });

  it("retention and prune count members down and remove them at 0; copyThread copies them with the records", async () => {
    const keyPrefix = testPrefix("rir");
    const saver = new RedisSaver({ client, keyPrefix, retention: { keepLast: 3 } });
    const put = writer(saver, "t");
    for (let turn = 0; turn < 12; turn++) {
      for (let step = 0; step < 3; step++) await put(`c${String(turn * 3 + step).padStart(3, "0")}`, `run-${turn}`);
      await put(`s${String(turn).padStart(3, "0")}`, `run-${turn}`, "sub");
      await expectExactIndex(client, keyPrefix, "t");
    }
    // The members of runs retention trimmed away are gone, not left at 0.
    const trimmed = await members(client, keyPrefix, "t");
    expect(trimmed["run-0 "]).toBeUndefined();
    expect(trimmed["run-0 sub"]).toBeUndefined();
    expect(trimmed["run-11 "]).toEqual({ firstId: "c033", count: 3 });

    const plain = new RedisSaver({ client, keyPrefix });
    const stored = await client.hlen(saverThreadKeys(keyPrefix, "t").checkpoints);
    expect(await plain.copyThread("t", "copy")).toEqual({ checkpoints: stored });
    expect(await members(client, keyPrefix, "copy")).toEqual(trimmed);
    await plain.prune(["t"], { keepLast: 1 });
    expect(await expectExactIndex(client, keyPrefix, "t")).toEqual({
      "run-11 ": { firstId: "c033", count: 1 },
      "run-11 sub": { firstId: "s011", count: 1 },
    });
    await expectNoOrphanBlobs(plain, "t");

    // The copy is indexed like its source: deleting the newest run removes its 4 checkpoints there, 2 in "t".
    const before = await ids(plain, "copy");
    expect(await plain.deleteForRuns(["run-11"])).toMatchObject({ checkpoints: 6 });
    expect(await client.exists(...saverThreadKeys(keyPrefix, "t").all)).toBe(0);
    expect(await ids(plain, "copy")).toEqual(before.filter((id) => !["c033", "c034", "c035"].includes(id)));
    await expectExactIndex(client, keyPrefix, "copy");
    await expectNoOrphanBlobs(plain, "copy");
  });

  it("a run's hash loses a thread with the run's last checkpoint there: retention, prune, deleteThread", async () => {
    const keyPrefix = testPrefix("rih");
    const saver = new RedisSaver({ client, keyPrefix, retention: { keepLast: 3 } });
    const runs = [...Array.from({ length: 8 }, (_, turn) => `run-${turn}`), "run-b"];
    const runThreads = async (runId: string) => (await client.hkeys(saverRunThreadsKey(keyPrefix, runId))).sort();
    /** Each run's hash names exactly the threads that hold a checkpoint of the run. */
    const expectHashesMatch = async (threads: readonly string[]) => {
      const holders = new Map<string, string[]>(runs.map((runId) => [runId, []]));
      for (const thread of threads) {
        for (const tuple of await collect(saver.list({ configurable: { thread_id: thread } }))) {
          const list = holders.get(String((tuple.metadata as Record<string, unknown> | undefined)?.run_id)) ?? [];
          if (!list.includes(thread)) list.push(thread);
        }
      }
      for (const runId of runs) expect(await runThreads(runId), runId).toEqual((holders.get(runId) ?? []).sort());
    };
    const put = writer(saver, "t");
    const other = writer(saver, "u");
    // Another process (a saver of its own) records its run on "t" first.
    const elsewhere = writer(new RedisSaver({ client, keyPrefix }), "t");
    await elsewhere("b0", "run-b");
    await other("u0", "run-0");
    for (let turn = 0; turn < runs.length - 1; turn++) {
      for (let step = 0; step < 3; step++) await put(`c${turn}${step}`, `run-${turn}`);
    }
    // Retention took the oldest runs' checkpoints off "t": their hashes no longer name it; run-0's still names "u".
    expect(await runThreads("run-b")).toEqual([]);
    expect(await runThreads("run-0")).toEqual(["u"]);
    expect(await runThreads("run-6")).toEqual(["t"]);
    await expectHashesMatch(["t", "u"]);
    // A run that writes the thread again is recorded again: on a cluster this process forgot the pair, and the
    // other one hears from its put that the thread held none of the run's checkpoints.
    await put("d0", "run-0");
    expect(await runThreads("run-0")).toEqual(["t", "u"]);
    await elsewhere("b1", "run-b");
    expect(await runThreads("run-b")).toEqual(["t"]);
    await expectHashesMatch(["t", "u"]);
    await saver.prune(["t"], { keepLast: 1 });
    await expectHashesMatch(["t", "u"]);
    expect(await runThreads("run-6")).toEqual([]);
    // deleteForRuns still finds what the hashes name.
    expect(await saver.deleteForRuns(["run-0"])).toMatchObject({ checkpoints: 2 });
    await put("e0", "run-7");
    await saver.deleteThread("t");
    expect(await runThreads("run-7")).toEqual([]);
    await other("u1", "run-7");
    await saver.prune(["u"], { strategy: "delete" });
    for (const runId of runs) expect(await runThreads(runId), runId).toEqual([]);
  });

  it("a thread with an earlier release's per-checkpoint members beside this release's", async () => {
    const keyPrefix = testPrefix("rio2");
    const saver = new RedisSaver({ client, keyPrefix });
    const keys = saverThreadKeys(keyPrefix, "t");
    const put = writer(saver, "t");
    // What an earlier release stored: records without a run line, a member `runId\0ns\0id` per checkpoint.
    const old = async (id: string, runId: string, ns = "") => {
      await put(id, undefined, ns);
      await client.zadd(keys.byRun, 0, `${escapePart(runId)}\0${checkpointField(ns, id)}`);
    };
    await old("a1", "run-a");
    await old("a2", "run-a");
    await old("b1", "run-b");
    await old("s1", "run-a", "sub");
    // The same runs go on writing with this release, and a new one starts.
    await put("a3", "run-a");
    await put("b2", "run-b", "sub");
    await put("c1", "run-c");
    await put("a4", "run-a");
    expect(await members(client, keyPrefix, "t")).toEqual({
      "run-a ": { firstId: "a3", count: 2 },
      "run-b sub": { firstId: "b2", count: 1 },
      "run-c ": { firstId: "c1", count: 1 },
    });
    expect(await client.zcard(keys.byRun)).toBe(7);

    // Retention's clean-up of stale earlier-release members (a1's once prune removed it, and one whose checkpoint
    // was already gone) leaves this release's members alone.
    await client.zadd(keys.byRun, 0, `run-z\0\0gone`);
    expect(await saver.prune(["t"], { keepLast: 5 })).toMatchObject({ checkpoints: 1 });
    expect(await client.zcard(keys.byRun)).toBe(6);
    expect(Object.keys(await members(client, keyPrefix, "t")).length).toBe(3);

    expect(await saver.deleteForRuns(["run-a"])).toEqual({ checkpoints: 4, writes: 0, blobs: 4 });
    expect(await ids(saver, "t")).toEqual(["b1", "c1"]);
    expect(await ids(saver, "t", "sub")).toEqual(["b2"]);
    expect(await client.zrange(keys.byRun, "0", "-1")).toEqual([
      `run-b\0\0b1`,
      `run-b\0sub\0\0b2\0${1}`,
      `run-c\0\0\0c1\0${1}`,
    ]);
    expect(await saver.deleteForRuns(["run-b", "run-c"])).toMatchObject({ checkpoints: 3 });
    expect(await client.exists(...keys.all)).toBe(0);
  });
});
