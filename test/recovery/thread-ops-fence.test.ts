/**
 * The thread operations that rewrite or replace a thread's history (deleteForRuns, prune with strategy "delete",
 * copyThread into a thread) leave a thread alone while a live leased run writes it, with real leases: the run's live
 * mark on its thread, refreshed by its heartbeat and cleared when it ends. The run's own rollback (cancelRun) still
 * goes through, on a live run and on a crashed one.
 */
import {
  cancelRun,
  findCrashedRuns,
  RedisSaver,
  RunCancelledError,
  ThreadLeasedError,
  withRunLease,
} from "../../src/index.js";
import { runFenceField, saverThreadKeys } from "../../src/keys.js";
import { MARK_RUN_LIVE, RAISE_RUN_FENCE } from "../../src/saver/run-fence.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { collect } from "../saver/saver-helpers.js";
import { crashRun, testGraph, waitUntil } from "./helpers.js";

/** The live marks on a thread (fields of its runFences hash). */
async function liveMarks(saver: RedisSaver, threadId: string): Promise<string[]> {
  const fields = await saver.client.hkeys(saverThreadKeys(saver.keyPrefix, threadId).runFences);
  return fields.filter((field) => field.startsWith("{live}"));
}

describe.each(targets)("thread operations under live runs ($name)", ({ connect }) => {
  const setup = (tag: string) => {
    const keyPrefix = testPrefix(tag);
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const started: string[] = [];
    const lease = { keyPrefix, name: "g", leaseMs: 3_000, heartbeatMs: 100 };
    const app = withRunLease(
      testGraph({ checkpointer: saver, behaviour: { b1: "block" }, onStart: (node) => started.push(node) }),
      { client: connect(), ...lease },
    );
    // Another process: its own connections, the same graph name and prefix.
    const otherSaver = new RedisSaver({ client: connect(), keyPrefix });
    const other = withRunLease(testGraph({ checkpointer: otherSaver }), { client: connect(), ...lease });
    return { keyPrefix, saver, otherSaver, app, other, started };
  };

  it("deleteForRuns and prune's delete refuse a thread a live run writes; its own rollback goes through", async () => {
    const { saver, otherSaver, app, other, started } = setup("fence-del");
    const configurable = { thread_id: "t" };
    await other.invoke({ input: 1 }, { configurable, metadata: { run_id: "r0" } });
    const before = await saver.getTuple({ configurable });
    const run = app.invoke({ input: 7 }, { configurable, metadata: { run_id: "r1" } }).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    const [mark] = await liveMarks(saver, "t");
    const runFences = saverThreadKeys(saver.keyPrefix, "t").runFences;
    const markValue = async () => String(await saver.client.hget(runFences, String(mark)));
    // "token expiresAtMs runId": each heartbeat pushes the expiry on.
    const first = await markValue();
    expect(first).toMatch(/^\d+ \d+ r1$/);
    await waitUntil(async () => (await markValue()) !== first, 20);
    const later = await markValue();
    expect(Number(later.split(" ")[1])).toBeGreaterThan(Number(first.split(" ")[1]));
    expect(later.split(" ")[0]).toBe(first.split(" ")[0]);
    const during = await collect(saver.list({ configurable }));

    // Neither the live run's checkpoints nor an earlier run's go from under it, from any process.
    for (const runIds of [["r1"], ["r0"], ["r0", "r1"]]) {
      const refused = await otherSaver.deleteForRuns(runIds).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ThreadLeasedError);
      expect(refused).toMatchObject({ threadId: "t", runIds: ["r1"], operation: "RedisSaver.deleteForRuns" });
    }
    expect(await otherSaver.prune(["t"], { strategy: "delete" })).toEqual({
      checkpoints: 0,
      writes: 0,
      blobs: 0,
      pinned: [],
      leased: ["t"],
      incomplete: [],
    });
    expect(await collect(saver.list({ configurable }))).toEqual(during);

    // The run's own rollback removes what it wrote, under its fence, while it still holds its lease.
    expect((await cancelRun(other, "t", { action: "rollback" })).outcome).toBe("cancelled");
    expect(await run).toBeInstanceOf(RunCancelledError);
    expect((await saver.getTuple({ configurable }))?.checkpoint.id).toBe(before?.checkpoint.id);
    // The run ended: its mark is gone, and the thread is anyone's again.
    expect(await liveMarks(saver, "t")).toEqual([]);
    expect((await otherSaver.deleteForRuns(["r0"])).checkpoints).toBeGreaterThan(0);
    expect(await saver.getTuple({ configurable })).toBeUndefined();
  });

  it("deleteForRuns over several leased threads cleans the others and names every refused one", async () => {
    const { keyPrefix, saver, other } = setup("fence-many");
    for (const threadId of ["a", "b", "c"]) {
      await other.invoke({ input: 1 }, { configurable: { thread_id: threadId }, metadata: { run_id: "r0" } });
    }
    // Live runs on a and c (raised as withRunLease raises its fence and mark), none on b.
    const field = runFenceField(keyPrefix, "g", "");
    for (const [threadId, runId] of [
      ["c", "rc"],
      ["a", "ra"],
    ] as const) {
      await saver[RAISE_RUN_FENCE]({ field, token: 1_000, threadId, checkpointNs: "" }, { liveMs: 60_000, runId });
    }
    const refused = await saver.deleteForRuns(["r0"]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ThreadLeasedError);
    expect(refused).toMatchObject({
      threadId: "a",
      runIds: ["ra"],
      threads: [
        { threadId: "a", runIds: ["ra"] },
        { threadId: "c", runIds: ["rc"] },
      ],
    });
    expect(String((refused as Error).message)).toMatch(/"a".*"ra".*"c".*"rc"/);
    expect(await saver.getTuple({ configurable: { thread_id: "b" } })).toBeUndefined();
    for (const threadId of ["a", "c"]) {
      expect(await saver.getTuple({ configurable: { thread_id: threadId } })).toBeDefined();
    }
  });

  it("deleteThread refuses a thread a live run writes, keeping its fence; once the run ended it deletes", async () => {
    const { keyPrefix, saver, other } = setup("fence-delete");
    await other.invoke({ input: 1 }, { configurable: { thread_id: "t" } });
    const keys = saverThreadKeys(keyPrefix, "t");
    const field = runFenceField(keyPrefix, "g", "");
    const fence = { field, token: 1_000, threadId: "t", checkpointNs: "" };
    await saver[RAISE_RUN_FENCE](fence, { liveMs: 60_000, runId: "rt" });
    const before = await saver.getTuple({ configurable: { thread_id: "t" } });

    const refused = await saver.deleteThread("t").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ThreadLeasedError);
    expect(refused).toMatchObject({ threadId: "t", runIds: ["rt"], operation: "RedisSaver.deleteThread" });
    expect(await saver.getTuple({ configurable: { thread_id: "t" } })).toEqual(before);
    expect(await saver.client.hget(keys.runFences, field)).toBe("1000");

    // The run ends (its mark is cleared): the thread goes, fence and all.
    expect(await saver[MARK_RUN_LIVE]("t", field, { token: 0, liveMs: 0, runId: "rt" })).toBe(true);
    await saver.deleteThread("t");
    expect(await saver.getTuple({ configurable: { thread_id: "t" } })).toBeUndefined();
    expect(await saver.client.exists(...keys.all)).toBe(0);
    // A thread with no keys at all deletes quietly, as before.
    await saver.deleteThread("never-written");
  });

  it("prune with keepLast trims a thread a live run writes, as the retention option does", async () => {
    const { saver, app, other, started } = setup("fence-trim");
    const configurable = { thread_id: "t" };
    await other.invoke({ input: 1 }, { configurable });
    const run = app.invoke({ input: 7 }, { configurable }).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    const latest = await saver.getTuple({ configurable });
    const pruned = await saver.prune(["t"], { keepLast: 1 });
    expect(pruned.leased).toEqual([]);
    expect(pruned.checkpoints).toBeGreaterThan(0);
    expect((await saver.getTuple({ configurable }))?.checkpoint.id).toBe(latest?.checkpoint.id);
    await cancelRun(other, "t", { action: "interrupt" });
    expect(await run).toBeInstanceOf(RunCancelledError);
  });

  it("copyThread refuses a destination a live run writes, even before its first checkpoint", async () => {
    const { saver, app, other, started } = setup("fence-copy");
    await other.invoke({ input: 1 }, { configurable: { thread_id: "src" } });
    // durability "exit": the run stores nothing until it ends, so the destination has a live run and no data.
    const run = app
      .invoke({ input: 7 }, { configurable: { thread_id: "dest" }, metadata: { run_id: "r-dest" }, durability: "exit" })
      .catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    expect(await saver.client.exists(saverThreadKeys(saver.keyPrefix, "dest").checkpoints)).toBe(0);
    const refused = await saver.copyThread("src", "dest").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ThreadLeasedError);
    expect(refused).toMatchObject({ threadId: "dest", runIds: ["r-dest"] });
    expect(await saver.client.exists(saverThreadKeys(saver.keyPrefix, "dest").checkpoints)).toBe(0);
    // Copying from a thread a run writes is a snapshot, and fine.
    expect((await saver.copyThread("dest", "elsewhere")).checkpoints).toBe(0);
    await cancelRun(other, "dest", { action: "interrupt" });
    expect(await run).toBeInstanceOf(RunCancelledError);
    expect(await liveMarks(saver, "dest")).toEqual([]);
  });

  it("cancelRun's rollback of a crashed run goes through although its mark outlasts the lease", async () => {
    const { keyPrefix, saver, other } = setup("fence-crash");
    await crashRun({ checkpointer: saver, keyPrefix, name: "g", threadId: "dead", leaseMs: 300, connect });
    await waitUntil(async () => (await findCrashedRuns(other, { prune: false })).length === 1, 50);
    const keys = saverThreadKeys(keyPrefix, "dead");
    const [member] = await saver.client.zrange(keys.byRun, "0", "0");
    const runId = String(member).slice(0, String(member).indexOf("\0"));
    // The mark is refreshed after each renewal, so it can outlive the lease; here by a minute.
    const field = runFenceField(keyPrefix, "g", "");
    const token = await saver.client.hget(keys.runFences, field);
    const [seconds] = await saver.client.time();
    await saver.client.hset(keys.runFences, `{live}${field}`, `${token} ${(Number(seconds) + 60) * 1000} ${runId}`);
    await expect(saver.deleteForRuns([runId])).rejects.toBeInstanceOf(ThreadLeasedError);

    const result = await cancelRun(other, "dead", { action: "rollback" });
    expect(result).toEqual({ outcome: "stopped-crashed", runId });
    expect(await saver.getTuple({ configurable: { thread_id: "dead" } })).toBeUndefined();
    expect(await saver.client.exists(keys.checkpoints, keys.byRun, keys.runFences)).toBe(0);
  });

  it("a mark counts while it is fresh and carries the newest token; refreshes never create one", async () => {
    const keyPrefix = testPrefix("fence-mark");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    await saver.put(
      { configurable: { thread_id: "src", checkpoint_ns: "" } },
      { v: 4, id: "1", ts: new Date().toISOString(), channel_values: {}, channel_versions: {}, versions_seen: {} },
      { source: "input", step: -1, parents: {} },
      {},
    );
    const field = runFenceField(keyPrefix, "g", "");
    const fence = { field, token: 5, threadId: "m", checkpointNs: "" };
    await saver[RAISE_RUN_FENCE](fence, { liveMs: 60_000, runId: "rz" });
    await expect(saver.copyThread("src", "m")).rejects.toMatchObject({ name: "ThreadLeasedError", runIds: ["rz"] });

    // A refresh needs the mark's token (or, with token 0, its run id).
    expect(await saver[MARK_RUN_LIVE]("m", field, { token: 4, liveMs: 60_000, runId: "" })).toBe(false);
    expect(await saver[MARK_RUN_LIVE]("m", field, { token: 0, liveMs: 60_000, runId: "other" })).toBe(false);
    // A newer lease of the same field supersedes the mark (the run was taken over).
    await saver[RAISE_RUN_FENCE]({ ...fence, token: 6 });
    expect((await saver.copyThread("src", "m")).checkpoints).toBe(1);
    await saver.deleteThread("m");

    await saver[RAISE_RUN_FENCE]({ ...fence, token: 7 }, { liveMs: 60_000, runId: "rz" });
    await expect(saver.copyThread("src", "m")).rejects.toBeInstanceOf(ThreadLeasedError);
    // Shortened to 1 ms: it lapses (the server clock decides; polled, bounded).
    expect(await saver[MARK_RUN_LIVE]("m", field, { token: 7, liveMs: 1, runId: "" })).toBe(true);
    await waitUntil(async () => {
      const copied = await saver.copyThread("src", "m").catch((error: unknown) => error);
      return !(copied instanceof ThreadLeasedError);
    }, 5);
    expect(await saver.getTuple({ configurable: { thread_id: "m" } })).toBeDefined();
    // Cleared, a mark is not brought back by a late refresh.
    expect(await saver[MARK_RUN_LIVE]("m", field, { token: 0, liveMs: 0, runId: "rz" })).toBe(true);
    expect(await saver[MARK_RUN_LIVE]("m", field, { token: 7, liveMs: 60_000, runId: "" })).toBe(false);
    expect(await liveMarks(saver, "m")).toEqual([]);
  });
});
