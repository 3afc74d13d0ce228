/**
 * findCrashedRuns: runs whose lease expired while their latest checkpoint still has tasks to run, and nothing else.
 */
import { MemorySaver } from "@langchain/langgraph";
import { InvalidOptionError } from "../../src/errors.js";
import { runLeaseMember } from "../../src/keys.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { acquireLease } from "../../src/recovery/lease/acquire-lease.js";
import { listExpiredLeases } from "../../src/recovery/lease/list-expired-leases.js";
import { resumeCrashedRuns } from "../../src/recovery/resume-crashed-runs.js";
import { leasedGraphContext, withRunLease } from "../../src/recovery/with-run-lease.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { crashRun, FINAL_TRAIL, leaseCounts, testGraph, unreadableThread, waitUntil } from "./helpers.js";

describe.each(targets)("findCrashedRuns on $name", ({ connect }) => {
  const client = connect();
  let keyPrefix: string;
  let checkpointer: MemorySaver;
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  beforeEach(() => {
    keyPrefix = testPrefix("find");
    checkpointer = new MemorySaver();
  });
  const recoverer = (graph = testGraph({ checkpointer })) =>
    withRunLease(graph, { client, keyPrefix, name: "g", owner: "recoverer" });

  const leaseScope = () => {
    const scope = leasedGraphContext(recoverer())?.scope;
    if (!scope) throw new Error("unreachable");
    return scope;
  };
  /** A lease entry that expires at once, as left by a process that died after taking it. */
  const expiredLease = async (threadId: string, owner = "dead") => {
    await acquireLease(leaseScope(), runLeaseMember(threadId, ""), owner, 100);
  };

  it("reports a run that died mid-way with its thread, checkpoint, pending nodes and last holder", async () => {
    await crashRun({
      checkpointer,
      keyPrefix,
      name: "g",
      threadId: "t-crash",
      leaseMs: 400,
      owner: "host/123/ab",
      connect,
    });
    const app = recoverer();
    let crashed = await findCrashedRuns(app);
    await waitUntil(async () => {
      crashed = await findCrashedRuns(app);
      return crashed.length > 0;
    });
    const state = await app.getState(config("t-crash"));
    expect(crashed).toEqual([
      {
        threadId: "t-crash",
        checkpointNs: "",
        checkpointId: state.config.configurable?.checkpoint_id,
        pendingNodes: ["b1"],
        finishedNodes: ["b2"],
        leaseExpiredAt: expect.any(Date),
        heldBy: "host/123/ab",
        heldAs: "lease",
        leaseToken: expect.any(Number),
        config: { configurable: { thread_id: "t-crash", checkpoint_ns: "" } },
      },
    ]);
    expect(state.next).toEqual(["b1"]);
    // Still listed on the next call: finding never claims or removes a crashed run.
    expect(await findCrashedRuns(app)).toHaveLength(1);
  });

  it("reports a run whose running task recorded an error (it lost Redis, then its lease) as crashed", async () => {
    await crashRun({
      checkpointer,
      keyPrefix,
      name: "g",
      threadId: "t-err",
      leaseMs: 300,
      connect,
      checkpointerDies: false,
    });
    const app = recoverer();
    const state = await app.getState(config("t-err"));
    expect(state.tasks.find((task) => task.name === "b1")?.error).toMatchObject({ name: "RunLeaseLostError" });
    await waitUntil(async () => (await findCrashedRuns(app)).length === 1);
    expect((await findCrashedRuns(app))[0]).toMatchObject({ pendingNodes: ["b1"], finishedNodes: ["b2"] });
    const report = await resumeCrashedRuns(app);
    expect(report.resumed).toBe(1);
    expect((await app.getState(config("t-err"))).values.trail).toEqual(FINAL_TRAIL);
  });

  it("reports a run whose step stored all its writes but died before the next checkpoint", async () => {
    // The process dies after b1 and b2 stored their writes, before the checkpoint of that step is stored.
    await crashRun({
      ...{ checkpointer, keyPrefix, name: "g", threadId: "t-between", leaseMs: 300, connect },
      ...{ blockAt: "c", dropCheckpointsFromStep: 2 },
    });
    const app = recoverer();
    const state = await app.getState(config("t-between"));
    expect(state.next).toEqual([]);
    let crashed = await findCrashedRuns(app);
    await waitUntil(async () => {
      crashed = await findCrashedRuns(app);
      return crashed.length > 0;
    });
    expect(crashed[0]).toMatchObject({ threadId: "t-between", pendingNodes: [], finishedNodes: ["b1", "b2"] });
  });

  it("does not report, and prunes, expired entries of finished, interrupted and never-checkpointed threads", async () => {
    const plain = testGraph({ checkpointer });
    await plain.invoke({ input: 1 }, config("t-done"));
    const interrupting = testGraph({ checkpointer, behaviour: { b2: "interrupt" } });
    await interrupting.invoke({ input: 1 }, config("t-paused"));
    expect((await interrupting.getState(config("t-paused"))).next).toEqual(["b2"]);
    for (const thread of ["t-done", "t-paused", "t-never"]) await expiredLease(thread);
    const app = recoverer();
    await waitUntil(async () => (await listExpiredLeases(leaseScope(), 10)).leases.length === 3);

    expect(await findCrashedRuns(app, { prune: false })).toEqual([]);
    expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(3);
    expect(await findCrashedRuns(app)).toEqual([]);
    expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(0);
    expect((await leaseCounts(client, keyPrefix, "g")).holders).toBe(0);
  });

  it("inspects only expired leases: finished threads and live runs cost nothing", async () => {
    const graph = testGraph({ checkpointer });
    const app = recoverer(graph);
    for (let i = 0; i < 50; i++) await app.invoke({ input: i }, config(`t-finished-${i}`));
    const live = withRunLease(testGraph({ checkpointer, behaviour: { b1: "block" } }), {
      client,
      keyPrefix,
      name: "g",
    });
    const controller = new AbortController();
    const running = live.invoke({ input: 1 }, { ...config("t-live"), signal: controller.signal }).catch(() => {});
    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t-dead", leaseMs: 300, connect });
    await waitUntil(async () => (await listExpiredLeases(leaseScope(), 10)).leases.length === 1);

    const loaded: string[] = [];
    const getState = graph.getState.bind(graph);
    graph.getState = (async (cfg: Parameters<typeof getState>[0], options?: Parameters<typeof getState>[1]) => {
      loaded.push(String(cfg.configurable?.thread_id));
      return getState(cfg, options);
    }) as typeof graph.getState;
    const crashed = await findCrashedRuns(app);
    expect(crashed.map((r) => r.threadId)).toEqual(["t-dead"]);
    expect(loaded).toEqual(["t-dead"]);
    controller.abort();
    await running;
  });

  it("hands a thread whose state cannot be loaded to onError, or throws after inspecting the others", async () => {
    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t-ok", leaseMs: 300, connect });
    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t-broken", leaseMs: 300, connect });
    const graph = unreadableThread(testGraph({ checkpointer }), "t-broken");
    const app = recoverer(graph);
    await waitUntil(async () => (await listExpiredLeases(leaseScope(), 10)).leases.length === 2);

    const errors: unknown[] = [];
    const crashed = await findCrashedRuns(app, { onError: (error, run) => errors.push([run.threadId, error]) });
    expect(crashed.map((r) => r.threadId)).toEqual(["t-ok"]);
    expect(errors).toEqual([["t-broken", expect.objectContaining({ message: "corrupt checkpoint" })]]);
    await expect(findCrashedRuns(app)).rejects.toThrow("corrupt checkpoint");
    expect((await leaseCounts(client, keyPrefix, "g")).index).toBe(2);
  });

  it("keeps graphs apart by name, and rejects a graph that withRunLease did not wrap", async () => {
    await crashRun({ checkpointer, keyPrefix, name: "g", threadId: "t-g", leaseMs: 300, connect });
    await waitUntil(async () => (await listExpiredLeases(leaseScope(), 10)).leases.length === 1);
    const other = withRunLease(testGraph({ checkpointer }), { client, keyPrefix, name: "other" });
    expect(await findCrashedRuns(other)).toEqual([]);
    expect(await findCrashedRuns(recoverer())).toHaveLength(1);
    await expect(findCrashedRuns(testGraph({ checkpointer }))).rejects.toThrow(InvalidOptionError);
    await expect(findCrashedRuns(recoverer(), { limit: 0 })).rejects.toThrow(/findCrashedRuns.limit/);
  });
});
