/**
 * resumeCrashedRuns: each crashed run is claimed by exactly one recoverer and resumed from its last checkpoint
 * under a fresh lease, without re-running the steps its checkpoint already holds.
 */
import { MemorySaver } from "@langchain/langgraph";
import { RunLeaseHeldError } from "../../src/errors.js";
import { runLeaseMember } from "../../src/keys.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { claimRun } from "../../src/recovery/lease/claim-run.js";
import { resumeCrashedRuns } from "../../src/recovery/resume-crashed-runs.js";
import type { ResumeProgress } from "../../src/recovery/types.js";
import { leasedGraphContext, withRunLease } from "../../src/recovery/with-run-lease.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { crashRun, FINAL_TRAIL, gate, leaseCounts, type TestGraphOptions, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("resumeCrashedRuns on $name", ({ connect }) => {
  const client = connect();
  let keyPrefix: string;
  let checkpointer: MemorySaver;
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  beforeEach(() => {
    keyPrefix = testPrefix("resume");
    checkpointer = new MemorySaver();
  });
  const recoverer = (owner: string, options: Partial<TestGraphOptions> = {}) =>
    withRunLease(testGraph({ checkpointer, ...options }), { client, keyPrefix, name: "g", owner, leaseMs: 2_000 });
  const crash = (threadId: string) =>
    crashRun({ checkpointer, keyPrefix, name: "g", threadId, leaseMs: 300, connect, blockAt: "b1" });
  const crashedCount = async (n: number) => {
    const probe = recoverer("probe");
    await waitUntil(async () => (await findCrashedRuns(probe, { prune: false })).length === n);
  };

  it("resumes a crashed run to the state of a run that never crashed, without re-running stored steps", async () => {
    await crash("t1");
    await crashedCount(1);
    const executions = new Map<string, number>();
    const progress: ResumeProgress[] = [];
    const report = await resumeCrashedRuns(recoverer("r1", { executions }), { onProgress: (p) => progress.push(p) });

    expect(report).toMatchObject({ total: 1, done: 1, resumed: 1, failed: 0, skipped: 0, more: false });
    expect(report.results[0]).toMatchObject({ outcome: "resumed", run: { threadId: "t1", pendingNodes: ["b1"] } });
    expect(progress).toEqual([{ total: 1, done: 1, resumed: 1, failed: 0, skipped: 0, running: 0 }]);
    const state = await recoverer("reader").getState(config("t1"));
    expect(state.values.trail).toEqual(FINAL_TRAIL);
    expect(state.next).toEqual([]);
    // a and b2 were stored before the crash: only b1 (running when it died) and c ran again.
    expect(Object.fromEntries(executions)).toEqual({ "t1:b1": 1, "t1:c": 1 });
    expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(0);
    expect(await findCrashedRuns(recoverer("r1"))).toEqual([]);
  });

  it("finishes a run whose step had stored every write, running none of that step again", async () => {
    await crashRun({
      ...{ checkpointer, keyPrefix, name: "g", threadId: "t-between", leaseMs: 300, connect },
      ...{ blockAt: "c", dropCheckpointsFromStep: 2 },
    });
    expect((await recoverer("probe").getState(config("t-between"))).next).toEqual([]);
    await crashedCount(1);
    const executions = new Map<string, number>();
    const report = await resumeCrashedRuns(recoverer("r1", { executions }));
    expect(report.resumed).toBe(1);
    expect(Object.fromEntries(executions)).toEqual({ "t-between:c": 1 });
    expect((await recoverer("reader").getState(config("t-between"))).values.trail).toEqual(FINAL_TRAIL);
  });

  it("lets three concurrent recoverers split the work, resuming each run exactly once", async () => {
    const threads = Array.from({ length: 9 }, (_, i) => `t-${i}`);
    await Promise.all(threads.map(crash));
    await crashedCount(threads.length);
    const executions = new Map<string, number>();
    const reports = await Promise.all(
      ["r1", "r2", "r3"].map((owner) =>
        resumeCrashedRuns(recoverer(owner, { executions, behaviour: { b1: { sleepMs: 20 } } }), { concurrency: 2 }),
      ),
    );
    const resumed = reports.flatMap((r) => r.results.filter((x) => x.outcome === "resumed").map((x) => x.run.threadId));
    expect(resumed.sort()).toEqual([...threads].sort());
    for (const report of reports) {
      for (const result of report.results) {
        if (result.outcome === "skipped") expect(["claimed-elsewhere", "gone"]).toContain(result.reason);
        expect(result.outcome).not.toBe("failed");
      }
    }
    for (const thread of threads) {
      expect(executions.get(`${thread}:b1`)).toBe(1);
      expect(executions.get(`${thread}:c`)).toBe(1);
      expect((await recoverer("reader").getState(config(thread))).values.trail).toEqual(FINAL_TRAIL);
    }
  });

  it("runs a resume under a lease of its own, so nobody else can run the thread meanwhile", async () => {
    await crash("t-leased");
    await crashedCount(1);
    let resumedStarted = false;
    const hold = gate();
    const slow = withRunLease(
      testGraph({
        checkpointer,
        onStart: (node) => {
          if (node === "b1") resumedStarted = true;
        },
        behaviour: { b1: { until: hold.opened } },
      }),
      { client, keyPrefix, name: "g", owner: "r-slow" },
    );
    const pending = resumeCrashedRuns(slow);
    await waitUntil(() => resumedStarted, 10);
    const intruder = await recoverer("user")
      .invoke(null, config("t-leased"))
      .catch((e: unknown) => e);
    expect(intruder).toBeInstanceOf(RunLeaseHeldError);
    expect(intruder).toMatchObject({ holder: "r-slow" });
    hold.open();
    expect((await pending).resumed).toBe(1);
    expect((await recoverer("reader").getState(config("t-leased"))).values.trail).toEqual(FINAL_TRAIL);
  });

  it("takes over a claim whose recoverer died before resuming, once the claim expires", async () => {
    await crash("t-claimed");
    await crashedCount(1);
    const [found] = await findCrashedRuns(recoverer("probe"));
    const scope = leasedGraphContext(recoverer("dying"))?.scope;
    if (!found || !scope) throw new Error("unreachable");
    const claim = await claimRun(scope, runLeaseMember("t-claimed", ""), found.leaseToken, "dying-recoverer", 300);
    expect(claim.claimed).toBe(true);
    // The claim is live: nobody else may resume the run now.
    expect(await findCrashedRuns(recoverer("r2"))).toEqual([]);
    let reclaimed = await findCrashedRuns(recoverer("r2"));
    await waitUntil(async () => {
      reclaimed = await findCrashedRuns(recoverer("r2"));
      return reclaimed.length === 1;
    });
    expect(reclaimed[0]).toMatchObject({ heldBy: "dying-recoverer", heldAs: "claim" });
    const report = await resumeCrashedRuns(recoverer("r2"));
    expect(report.resumed).toBe(1);
    expect((await recoverer("reader").getState(config("t-claimed"))).values.trail).toEqual(FINAL_TRAIL);
  });

  it("reports a run that fails again, releases its lease and does not list it as crashed afterwards", async () => {
    await crash("t-fails");
    await crashedCount(1);
    const report = await resumeCrashedRuns(recoverer("r1", { behaviour: { b1: "fail" } }));
    expect(report).toMatchObject({ resumed: 0, failed: 1, skipped: 0 });
    expect(report.results[0]).toMatchObject({ outcome: "failed", error: { message: "node b1 failed" } });
    expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(0);
    expect(await findCrashedRuns(recoverer("r1"))).toEqual([]);
  });

  it("claims nothing once its signal is aborted, and reports those runs as skipped", async () => {
    await Promise.all(["t-a", "t-b"].map(crash));
    await crashedCount(2);
    const controller = new AbortController();
    controller.abort();
    const report = await resumeCrashedRuns(recoverer("r1"), { signal: controller.signal });
    expect(report).toMatchObject({ total: 2, resumed: 0, skipped: 2 });
    expect(report.results.every((r) => r.outcome === "skipped" && r.reason === "stopped")).toBe(true);
    expect(await findCrashedRuns(recoverer("r1"))).toHaveLength(2);
  });
});
