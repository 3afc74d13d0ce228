/**
 * Double texting: a second run started on a thread whose first run is still in flight, each from its own client
 * (its own connections, as another process), under each multitask strategy. The final state and the order of the
 * runs' work are checked against the strategy's definition (docs/runs.md).
 */
import { RedisSaver, RunCancelledError, RunLeaseHeldError, withRunLease } from "../../src/index.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { gate, type TestGraphOptions, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("multitask strategies ($name)", ({ connect }) => {
  /** Two clients of one graph: the first blocks in b1 (until `release`, or until its signal aborts). */
  const twoClients = (tag: string, strategy: "reject" | "interrupt" | "rollback") => {
    const keyPrefix = testPrefix(tag);
    const started: string[] = [];
    const held = gate();
    const first: TestGraphOptions = {
      checkpointer: new RedisSaver({ client: connect(), keyPrefix }),
      behaviour: { b1: strategy === "reject" ? { until: held.opened } : "block" },
      onStart: (node) => started.push(node),
    };
    const lease = { keyPrefix, name: "g", leaseMs: 3_000, heartbeatMs: 100 };
    const one = withRunLease(testGraph(first), { ...lease, client: connect() });
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const two = withRunLease(testGraph({ checkpointer: saver }), {
      ...lease,
      client: connect(),
      multitaskStrategy: strategy,
    });
    return { one, two, saver, started, release: held.open };
  };
  const config = { configurable: { thread_id: "chat" } };

  it("reject: the second run fails with RunLeaseHeldError, the first finishes alone", async () => {
    const { one, two, saver, started, release } = twoClients("mt-reject", "reject");
    const first = one.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    await expect(two.invoke({ input: 2 }, config)).rejects.toBeInstanceOf(RunLeaseHeldError);
    release();
    await first;
    expect((await two.getState(config)).values.trail).toEqual(["a(1)", "b1(1)", "b2(1)", "c(1)"]);
    expect((await saver.threads.get("chat"))?.status).toBe("idle");
  });

  it("interrupt: the first run stops at its next heartbeat, the second starts from its last checkpoint", async () => {
    const { one, two, saver, started } = twoClients("mt-int", "interrupt");
    const first = one.invoke({ input: 1 }, config).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    await two.invoke({ input: 2 }, config);
    const stopped = await first;
    expect(stopped).toBeInstanceOf(RunCancelledError);
    expect((stopped as RunCancelledError).action).toBe("interrupt");
    // The second run starts from the first run's last checkpoint (after a): what that run checkpointed stays,
    // before all of the second run's work; its unfinished step (b1 stopped, b2's write) is superseded.
    expect((await two.getState(config)).values.trail).toEqual(["a(1)", "a(2)", "b1(2)", "b2(2)", "c(2)"]);
    expect((await saver.threads.get("chat"))?.status).toBe("idle");
  });

  it("rollback: the first run stops and what it wrote is removed; only the second run's work remains", async () => {
    const { one, two, saver, started } = twoClients("mt-rb", "rollback");
    const first = one.invoke({ input: 1 }, config).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    await two.invoke({ input: 2 }, config);
    expect(await first).toBeInstanceOf(RunCancelledError);
    expect((await two.getState(config)).values.trail).toEqual(["a(2)", "b1(2)", "b2(2)", "c(2)"]);
    const history = [];
    for await (const snapshot of two.getStateHistory(config)) history.push(snapshot);
    expect(history.every((s) => !JSON.stringify(s.values).includes("(1)"))).toBe(true);
    expect((await saver.threads.get("chat"))?.status).toBe("idle");
  });

  it("a per-run strategy overrides the graph's, and a bad one is refused", async () => {
    const { one, two, started } = twoClients("mt-per-run", "reject");
    const first = one.invoke({ input: 1 }, config).catch((error: unknown) => error);
    await waitUntil(() => started.includes("b1"), 10);
    await expect(
      two.invoke({ input: 2 }, { configurable: { thread_id: "chat", multitask_strategy: "later" } }),
    ).rejects.toThrow(/multitask_strategy/);
    await two.invoke({ input: 2 }, { configurable: { thread_id: "chat", multitask_strategy: "interrupt" } });
    expect(await first).toBeInstanceOf(RunCancelledError);
  });
});
