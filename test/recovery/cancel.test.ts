/**
 * cancelRun and the thread statuses leases leave: a run cancelled from another client (its own connection, as
 * another process would be) stops through its AbortSignal at its next heartbeat, its lease is released and the
 * registry says how it ended; "rollback" removes what it wrote; a crashed run is stopped instead of resumed.
 */
import { cancelRun, findCrashedRuns, RedisSaver, RunCancelledError, withRunLease } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { crashRun, FINAL_TRAIL, leaseCounts, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("cancelRun ($name)", ({ connect }) => {
  const setup = (tag: string) => {
    const keyPrefix = testPrefix(tag);
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const started: string[] = [];
    const app = withRunLease(
      testGraph({ checkpointer: saver, behaviour: { b1: "block" }, onStart: (node) => started.push(node) }),
      { client: connect(), keyPrefix, name: "g", leaseMs: 3_000, heartbeatMs: 100 },
    );
    // Another process's view: its own connections, the same graph name and prefix.
    const otherSaver = new RedisSaver({ client: connect(), keyPrefix });
    const other = withRunLease(testGraph({ checkpointer: otherSaver }), {
      client: connect(),
      keyPrefix,
      name: "g",
      leaseMs: 3_000,
      heartbeatMs: 100,
    });
    return { keyPrefix, saver, app, other, started };
  };

  it("interrupt: the run's signal fires, the lease is released, checkpoints stay, status is interrupted", async () => {
    const { keyPrefix, saver, app, other, started } = setup("cancel-int");
    const config = { configurable: { thread_id: "t" } };
    const run = app.invoke({ input: 7 }, config).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    expect((await saver.threads.get("t"))?.status).toBe("busy");

    const result = await cancelRun(other, "t", { action: "interrupt" });
    expect(result.outcome).toBe("cancelled");
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/);
    const error = await run;
    expect(error).toBeInstanceOf(RunCancelledError);
    expect((error as RunCancelledError).action).toBe("interrupt");
    expect((await leaseCounts(saver.client, keyPrefix, "g")).index).toBe(0);
    expect((await saver.threads.get("t"))?.status).toBe("interrupted");
    // What the run finished before it stopped is kept (a, and b2 beside the cancelled b1): a new run continues.
    const state = await other.getState(config);
    expect(state.values.trail).toEqual(["a(7)", "b2(7)"]);
    expect(state.next).toEqual(["b1"]);
    await other.invoke(null, config);
    expect((await other.getState(config)).values.trail).toEqual(FINAL_TRAIL);
    expect((await saver.threads.get("t"))?.status).toBe("idle");
  });

  it("rollback: what the stopped run wrote is removed, the thread is back where the previous run left it", async () => {
    const { saver, app, other, started } = setup("cancel-rb");
    const config = { configurable: { thread_id: "t" } };
    await other.invoke({ input: 1 }, config);
    const before = await saver.getTuple(config);
    const run = app.invoke({ input: 7 }, config).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    expect((await saver.getTuple(config))?.checkpoint.id).not.toBe(before?.checkpoint.id);

    expect((await cancelRun(other, "t", { action: "rollback" })).outcome).toBe("cancelled");
    expect(await run).toBeInstanceOf(RunCancelledError);
    expect((await saver.getTuple(config))?.checkpoint.id).toBe(before?.checkpoint.id);
    expect((await other.getState(config)).values.trail).toEqual(["a(1)", "b1(1)", "b2(1)", "c(1)"]);
    expect((await saver.threads.get("t"))?.status).toBe("idle");
  });

  it("says not-running for an idle thread, and stops a crashed run so that no recoverer resumes it", async () => {
    const { keyPrefix, saver, other } = setup("cancel-crash");
    expect(await cancelRun(other, "nobody")).toEqual({ outcome: "not-running" });
    await crashRun({ checkpointer: saver, keyPrefix, name: "g", threadId: "dead", leaseMs: 300, connect });
    await waitUntil(async () => (await findCrashedRuns(other, { prune: false })).length === 1, 50);
    const result = await cancelRun(other, "dead", { action: "interrupt" });
    expect(result.outcome).toBe("stopped-crashed");
    expect(await findCrashedRuns(other)).toEqual([]);
    expect((await saver.threads.get("dead"))?.status).toBe("interrupted");
  });

  it("records error for a failed run and interrupted for one that stopped at an interrupt", async () => {
    const keyPrefix = testPrefix("status");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const failing = withRunLease(testGraph({ checkpointer: saver, behaviour: { c: "fail" } }), {
      client: connect(),
      keyPrefix,
      name: "g",
    });
    await expect(failing.invoke({ input: 1 }, { configurable: { thread_id: "f" } })).rejects.toThrow(/failed/);
    expect((await saver.threads.get("f"))?.status).toBe("error");
    const asking = withRunLease(testGraph({ checkpointer: saver, behaviour: { b2: "interrupt" } }), {
      client: connect(),
      keyPrefix,
      name: "g",
    });
    await asking.invoke({ input: 1 }, { configurable: { thread_id: "i" } });
    expect((await saver.threads.get("i"))?.status).toBe("interrupted");
    expect(await saver.threads.count({ status: "interrupted" })).toBe(1);
    expect((await saver.threads.search({ status: "error" })).threads.map((t) => t.threadId)).toEqual(["f"]);
  });
});
