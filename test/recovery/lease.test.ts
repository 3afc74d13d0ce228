/**
 * withRunLease: a run holds a lease on its thread for as long as it executes, renewed however long a node takes,
 * and released when it ends (done, interrupted, failed).
 */
import { MemorySaver } from "@langchain/langgraph";
import {
  InvalidConfigError,
  InvalidOptionError,
  RedisConnectionError,
  RunLeaseHeldError,
  RunLeaseLostError,
} from "../../src/errors.js";
import { runLeaseMember } from "../../src/keys.js";
import { findCrashedRuns } from "../../src/recovery/find-crashed-runs.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import { FINAL_TRAIL, gate, leaseCounts, leaseKeysOf, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("withRunLease on $name", ({ connect }) => {
  const client = connect();
  let keyPrefix: string;
  const config = (threadId: string) => ({ configurable: { thread_id: threadId } });
  const index = (threadId: string) => leaseKeysOf(keyPrefix, "g", threadId).index;
  const holders = (threadId: string) => leaseKeysOf(keyPrefix, "g", threadId).holders;
  const entries = () => leaseCounts(client, keyPrefix, "g").then((counts) => counts.index);
  beforeEach(() => {
    keyPrefix = testPrefix("lease");
  });

  it("holds a lease under its owner id while the run executes, and releases it when it finishes", async () => {
    const seen: (string | null)[] = [];
    const graph = testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: { sleepMs: 50 } } });
    const app = withRunLease(graph, { client, keyPrefix, name: "g", owner: "worker-1" });
    const probe = setInterval(
      () => void client.hget(holders("t1"), runLeaseMember("t1", "")).then((h) => seen.push(h)),
      5,
    );
    const result = await app.invoke({ input: 7 }, config("t1"));
    clearInterval(probe);
    expect(result.trail).toEqual(FINAL_TRAIL);
    expect(seen.some((h) => h !== null && /^\d+:lease:\d+:worker-1$/.test(h))).toBe(true);
    expect(await entries()).toBe(0);
    expect(await leaseCounts(client, keyPrefix, "g").then((counts) => counts.holders)).toBe(0);
  });

  it("releases the lease when the run stops at an interrupt or fails", async () => {
    const interrupting = withRunLease(testGraph({ checkpointer: new MemorySaver(), behaviour: { c: "interrupt" } }), {
      client,
      keyPrefix,
      name: "g",
    });
    const paused = await interrupting.invoke({ input: 1 }, config("t-int"));
    expect((paused as Record<string, unknown>).__interrupt__).toHaveLength(1);
    expect(await entries()).toBe(0);

    const failing = withRunLease(testGraph({ checkpointer: new MemorySaver(), behaviour: { b2: "fail" } }), {
      client,
      keyPrefix,
      name: "g",
    });
    await expect(failing.invoke({ input: 1 }, config("t-fail"))).rejects.toThrow("node b2 failed");
    expect(await entries()).toBe(0);
  });

  it("refuses a second run on a thread whose run is alive, and releases a run its caller aborted", async () => {
    const checkpointer = new MemorySaver();
    const blocking = withRunLease(testGraph({ checkpointer, behaviour: { b1: "block" } }), {
      client,
      keyPrefix,
      name: "g",
      owner: "blocking",
    });
    const second = withRunLease(testGraph({ checkpointer }), { client, keyPrefix, name: "g", owner: "second" });
    const controller = new AbortController();
    const running = blocking.invoke({ input: 1 }, { ...config("t-busy"), signal: controller.signal }).catch((e) => e);
    await waitUntil(async () => (await entries()) === 1, 10);
    const refused = await second.invoke({ input: 1 }, config("t-busy")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RunLeaseHeldError);
    expect(refused).toMatchObject({ threadId: "t-busy", checkpointNs: "", holder: "blocking" });
    controller.abort(new Error("cancelled by the caller"));
    expect(await running).toMatchObject({ message: "cancelled by the caller" });
    expect(await entries()).toBe(0);
  });

  it("keeps a run alive through a node that sleeps three times the lease: never reported crashed", async () => {
    const leaseMs = 1_000;
    let finished = false;
    const app = withRunLease(
      testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: { sleepMs: 3 * leaseMs } } }),
      {
        client,
        keyPrefix,
        name: "g",
        leaseMs,
      },
    );
    const run = app.invoke({ input: 7 }, config("t-long")).finally(() => {
      finished = true;
    });
    const expiries = new Set<string>();
    let polls = 0;
    while (!finished) {
      const crashed = await findCrashedRuns(app);
      expect(crashed).toEqual([]);
      const score = await client.zscore(index("t-long"), runLeaseMember("t-long", ""));
      if (score !== null) expiries.add(score);
      polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await run).trail).toEqual(FINAL_TRAIL);
    // It was looked at throughout, and the heartbeat moved the expiry forward several times.
    expect(polls).toBeGreaterThan(10);
    expect(expiries.size).toBeGreaterThanOrEqual(3);
    expect(await entries()).toBe(0);
  });

  it("keeps its lease when the wall clock steps forward mid-run (lease times are monotonic)", async () => {
    const leaseMs = 1_000;
    const app = withRunLease(
      testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: { sleepMs: 2 * leaseMs } } }),
      { client, keyPrefix, name: "g", leaseMs },
    );
    const realNow = Date.now.bind(Date);
    const run = app.invoke({ input: 7 }, config("t-step"));
    // An NTP correction of ten minutes while the node runs: the heartbeats go on as before.
    await new Promise((resolve) => setTimeout(resolve, leaseMs / 4));
    const step = vi.spyOn(Date, "now").mockImplementation(() => realNow() + 600_000);
    try {
      expect((await run).trail).toEqual(FINAL_TRAIL);
    } finally {
      step.mockRestore();
    }
    expect(await entries()).toBe(0);
  });

  it("aborts a run whose lease was taken over, and leaves the new holder's entry alone", async () => {
    const app = withRunLease(testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: "block" } }), {
      client,
      keyPrefix,
      name: "g",
      leaseMs: 600,
    });
    const running = app.invoke({ input: 1 }, config("t-lost")).catch((e: unknown) => e);
    const member = runLeaseMember("t-lost", "");
    await waitUntil(async () => (await client.hget(holders("t-lost"), member)) !== null, 10);
    await client.hset(holders("t-lost"), member, "999999:claim:0:someone-else");
    const error = await running;
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect(error).toMatchObject({ threadId: "t-lost", message: expect.stringContaining("someone-else") });
    expect(await client.hget(holders("t-lost"), member)).toBe("999999:claim:0:someone-else");
  });

  it("is aborted when its entry is gone (never put back live), and leaves it expired for recovery", async () => {
    const hold = gate();
    let started = false;
    const app = withRunLease(
      testGraph({
        checkpointer: new MemorySaver(),
        behaviour: { b1: { until: hold.opened } },
        onStart: (node) => {
          if (node === "b1") started = true;
        },
      }),
      { client, keyPrefix, name: "g", leaseMs: 600 },
    );
    const run = app.invoke({ input: 7 }, config("t-gone"));
    const failed = run.then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitUntil(() => started, 10);
    const member = runLeaseMember("t-gone", "");
    const token = Number((await client.hget(holders("t-gone"), member))?.split(":")[0]);
    // What a recoverer that resumed, finished and released the run (or a search that pruned it) leaves behind.
    await client.zrem(index("t-gone"), member);
    await client.hdel(holders("t-gone"), member);
    const error = await failed;
    hold.open();
    expect(error).toBeInstanceOf(RunLeaseLostError);
    expect(error).toMatchObject({ threadId: "t-gone", message: expect.stringContaining("entry is gone") });
    // Marked expired under the lost token, so a recoverer looks at the thread (and prunes it if it is finished).
    const holder = await client.hget(holders("t-gone"), member);
    expect(holder).toMatch(new RegExp(`^${token}:lease:`));
    expect(Number(await client.zscore(index("t-gone"), member))).toBeLessThanOrEqual(
      Number((await client.time())[0]) * 1000 + 1000,
    );
  });

  it("holds the lease while a streamed run executes, and releases it when the reader stops early", async () => {
    const leasedDuringNodes: Promise<number>[] = [];
    const app = withRunLease(
      testGraph({
        checkpointer: new MemorySaver(),
        onStart: () => leasedDuringNodes.push(client.zcard(index("t-stream"))),
      }),
      { client, keyPrefix, name: "g" },
    );
    const chunks: unknown[] = [];
    for await (const chunk of await app.stream({ input: 2 }, { ...config("t-stream"), streamMode: "updates" })) {
      chunks.push(chunk);
    }
    expect(chunks).toHaveLength(4);
    expect(await Promise.all(leasedDuringNodes)).toEqual([1, 1, 1, 1]);
    expect(await entries()).toBe(0);

    // A reader that stops while a node is still running cancels the run, which releases its lease.
    const blocked = withRunLease(testGraph({ checkpointer: new MemorySaver(), behaviour: { b1: "block" } }), {
      client,
      keyPrefix,
      name: "g",
    });
    for await (const _chunk of await blocked.stream({ input: 3 }, config("t-stream-early"))) break;
    await waitUntil(async () => (await entries()) === 0, 10);
    const state = await blocked.getState(config("t-stream-early"));
    expect(state.next).toContain("b1");
  });

  it("passes every other property and method through to the graph", async () => {
    const graph = testGraph({ checkpointer: new MemorySaver() });
    const app = withRunLease(graph, { client, keyPrefix, name: "g" });
    await app.invoke({ input: 5 }, config("t-pass"));
    const state = await app.getState(config("t-pass"));
    expect(state.values.trail).toEqual(["a(5)", "b1(5)", "b2(5)", "c(5)"]);
    expect(app.nodes).toBe(graph.nodes);
    expect(app).toBeInstanceOf(graph.constructor);
  });

  it("rejects a run without thread_id, bad options and double wrapping with named errors", async () => {
    const graph = testGraph({ checkpointer: new MemorySaver() });
    const app = withRunLease(graph, { client, keyPrefix, name: "g" });
    await expect(app.invoke({ input: 1 })).rejects.toBeInstanceOf(InvalidConfigError);
    expect(() => withRunLease(graph, { client, leaseMs: 1000, heartbeatMs: 1000 })).toThrow(
      expect.objectContaining({ name: "InvalidOptionError", option: "withRunLease.heartbeatMs" }),
    );
    expect(() => withRunLease(graph, { client, leaseMs: -5 })).toThrow(InvalidOptionError);
    expect(() => withRunLease(graph, { client: {} as never })).toThrow(/withRunLease.client/);
    expect(() => withRunLease(app, { client })).toThrow(/withRunLease.graph/);
  });

  it("fails with RedisConnectionError, before running anything, when the lease cannot be taken", async () => {
    const down = newRedis();
    down.disconnect();
    const executions = new Map<string, number>();
    const app = withRunLease(testGraph({ checkpointer: new MemorySaver(), executions }), { client: down, keyPrefix });
    await expect(app.invoke({ input: 1 }, config("t-down"))).rejects.toBeInstanceOf(RedisConnectionError);
    expect(executions.size).toBe(0);
  });
});
