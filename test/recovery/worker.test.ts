/**
 * startRecoveryWorker: an always-on loop that resumes crashed runs as they appear, with a clean stop.
 */
import { MemorySaver } from "@langchain/langgraph";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { resumeCrashedRuns } from "../../src/recovery/resume-crashed-runs.js";
import { startRecoveryWorker } from "../../src/recovery/start-recovery-worker.js";
import type { ResumeResult } from "../../src/recovery/types.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import {
  crashRun,
  FINAL_TRAIL,
  gate,
  type TestGraphOptions,
  testGraph,
  unreadableThread,
  waitUntil,
} from "./helpers.js";

describe.each(targets)("startRecoveryWorker on $name", ({ connect }) => {
  const client = connect();
  let keyPrefix: string;
  let checkpointer: MemorySaver;
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  beforeEach(() => {
    keyPrefix = testPrefix("worker");
    checkpointer = new MemorySaver();
  });
  const app = (options: Partial<TestGraphOptions> = {}) =>
    withRunLease(testGraph({ checkpointer, ...options }), { client, keyPrefix, name: "g", owner: "worker" });
  const crash = (threadId: string) => crashRun({ checkpointer, keyPrefix, name: "g", threadId, leaseMs: 300, connect });

  it("resumes runs that crash while it runs, and stops cleanly", async () => {
    const results: ResumeResult[] = [];
    const worker = startRecoveryWorker(app(), { intervalMs: 50, onResult: (r) => results.push(r) });
    await crash("t1");
    await crash("t2");
    await waitUntil(() => results.length === 2);
    await worker.stop();
    expect(worker.stopped).toBe(true);
    expect(results.map((r) => [r.outcome, r.run.threadId]).sort()).toEqual([
      ["resumed", "t1"],
      ["resumed", "t2"],
    ]);
    for (const thread of ["t1", "t2"]) {
      expect((await app().getState(config(thread))).values.trail).toEqual(FINAL_TRAIL);
    }
    expect(worker.stats).toMatchObject({ resumed: 2, failed: 0, errors: 0 });
    const passes = worker.stats.passes;
    expect(passes).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(worker.stats.passes).toBe(passes);
    await worker.stop();
  });

  it("a thread whose state cannot be loaded neither makes it pass again at once nor hides the runs after it", async () => {
    await crash("t-broken");
    await crash("t-good");
    const graph = unreadableThread(testGraph({ checkpointer }), "t-broken");
    const broken = withRunLease(graph, { client, keyPrefix, name: "g", owner: "worker" });
    // Both leases expired (the broken thread's first): both entries are found.
    let unreadable = 0;
    await waitUntil(async () => {
      const found = await findCrashedRuns(broken, { onError: () => unreadable++ });
      return unreadable > 0 && found.length === 1;
    });
    // limit 1: the oldest entry, the broken thread, fills the first pass.
    const results: ResumeResult[] = [];
    const worker = startRecoveryWorker(broken, { intervalMs: 200, limit: 1, onResult: (r) => results.push(r) });
    await waitUntil(() => results.some((r) => r.outcome === "resumed"));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await worker.stop();
    expect((await app().getState(config("t-good"))).values.trail).toEqual(FINAL_TRAIL);
    // The broken thread was reported once (left alone for 10 passes after), and passes came 200 ms apart.
    expect(results.map((r) => [r.outcome, r.run.threadId])).toEqual([
      ["failed", "t-broken"],
      ["resumed", "t-good"],
    ]);
    expect(worker.stats.passes).toBeLessThanOrEqual(12);
  });

  it("resumeCrashedRuns says no more waits when its pass found only threads it cannot load", async () => {
    await crash("t-broken-2");
    const graph = unreadableThread(testGraph({ checkpointer }), "t-broken-2");
    const broken = withRunLease(graph, { client, keyPrefix, name: "g", owner: "worker" });
    await waitUntil(async () => (await resumeCrashedRuns(broken, { limit: 1 })).failed === 1);
    // As many entries as its limit, but calling again would only find the same one.
    expect(await resumeCrashedRuns(broken, { limit: 1 })).toMatchObject({ total: 1, failed: 1, more: false });
  });

  it("skip reads past the runs an earlier call could not change, to the crashed run behind them", async () => {
    await crash("t-broken-3");
    await crash("t-good-3");
    const graph = unreadableThread(testGraph({ checkpointer }), "t-broken-3");
    const broken = withRunLease(graph, { client, keyPrefix, name: "g", owner: "worker" });
    const brokenRun = { threadId: "t-broken-3", checkpointNs: "" };
    // Both leases expired, the broken thread's first: with limit 1 it hides the other from every call.
    await waitUntil(async () => (await findCrashedRuns(broken, { limit: 1, skip: [brokenRun] })).length === 1);
    const unreadable: { threadId: string; checkpointNs: string }[] = [];
    expect(await findCrashedRuns(broken, { limit: 1, onError: (_, run) => unreadable.push(run) })).toEqual([]);
    expect(unreadable).toEqual([brokenRun]);
    const first = await resumeCrashedRuns(broken, { limit: 1 });
    expect(first).toMatchObject({ total: 1, failed: 1, more: false });
    // The loop docs/recovery.md shows: what failed goes into skip, and the next call reaches the run behind it.
    const skip = first.results.filter((result) => result.outcome === "failed").map((result) => result.run);
    const second = await resumeCrashedRuns(broken, { limit: 1, skip });
    expect(second.results.map((result) => [result.outcome, result.run.threadId])).toEqual([["resumed", "t-good-3"]]);
    expect((await app().getState(config("t-good-3"))).values.trail).toEqual(FINAL_TRAIL);
    const third = await resumeCrashedRuns(broken, { limit: 1, skip });
    expect(third).toMatchObject({ total: 0, more: false });
    await expect(findCrashedRuns(broken, { skip: [{ threadId: 1 }] } as never)).rejects.toThrow(/findCrashedRuns.skip/);
  });

  it("stop() waits for the resumes in flight", async () => {
    await crash("t-slow");
    const hold = gate();
    let started = false;
    const worker = startRecoveryWorker(
      app({
        behaviour: { b1: { until: hold.opened } },
        onStart: (node) => {
          if (node === "b1") started = true;
        },
      }),
      { intervalMs: 50 },
    );
    await waitUntil(() => started, 10);
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    hold.open();
    await stopping;
    expect(worker.stats.resumed).toBe(1);
    expect((await app().getState(config("t-slow"))).values.trail).toEqual(FINAL_TRAIL);
  });

  it("reports failed passes to onError and keeps going; an aborted signal stops it", async () => {
    const broken = newRedis();
    broken.disconnect();
    const errors: unknown[] = [];
    const controller = new AbortController();
    const worker = startRecoveryWorker(
      withRunLease(testGraph({ checkpointer }), { client: broken, keyPrefix, name: "g" }),
      { intervalMs: 20, onError: (e) => errors.push(e), signal: controller.signal },
    );
    await waitUntil(() => errors.length >= 3);
    controller.abort();
    await waitUntil(() => worker.stopped);
    await worker.stop();
    expect(worker.stats.errors).toBeGreaterThanOrEqual(3);
    expect(await findCrashedRuns(app())).toEqual([]);
  });

  it("rejects bad options by name", () => {
    expect(() => startRecoveryWorker(app(), { intervalMs: 0 })).toThrow(/startRecoveryWorker.intervalMs/);
    expect(() => startRecoveryWorker(testGraph({ checkpointer }))).toThrow(/startRecoveryWorker.graph/);
  });
});
