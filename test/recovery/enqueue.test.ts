/**
 * The "enqueue" multitask strategy: runs started on a busy thread, each from its own client (its own connections,
 * as separate processes), wait their turn and run one after another in arrival order. Final state and the queue in
 * Redis are checked; a waiter whose enqueueWaitMs passes leaves the queue with RunQueueTimeoutError.
 */
import { RedisSaver, RunLeaseHeldError, RunQueueTimeoutError, withRunLease } from "../../src/index.js";
import { runLeaseMember, runLeaseQueueKey, runLeaseWaitersKey, threadBucket } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { gate, testGraph, waitUntil } from "./helpers.js";

describe.each(targets)("enqueue strategy ($name)", ({ connect }) => {
  const config = { configurable: { thread_id: "chat" } };
  const lease = { name: "g", leaseMs: 3_000, heartbeatMs: 100 };

  /** A first client whose run blocks in b1 until `release`, and a way to build further clients of the graph. */
  const setup = (tag: string) => {
    const keyPrefix = testPrefix(tag);
    const started: string[] = [];
    const held = gate();
    const first = withRunLease(
      testGraph({
        checkpointer: new RedisSaver({ client: connect(), keyPrefix }),
        behaviour: { b1: { until: held.opened } },
        onStart: (node) => started.push(node),
      }),
      { ...lease, keyPrefix, client: connect() },
    );
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const client = (
      options: {
        enqueueWaitMs?: number;
        perRun?: boolean;
        strategy?: "enqueue" | "reject";
        until?: Promise<void>;
      } = {},
    ) =>
      withRunLease(
        testGraph({
          checkpointer: new RedisSaver({ client: connect(), keyPrefix }),
          ...(options.until ? { behaviour: { b1: { until: options.until } } } : {}),
        }),
        {
          ...lease,
          keyPrefix,
          client: connect(),
          ...(options.perRun ? {} : { multitaskStrategy: options.strategy ?? "enqueue" }),
          ...(options.enqueueWaitMs ? { enqueueWaitMs: options.enqueueWaitMs } : {}),
        },
      );
    const redis = connect();
    const member = runLeaseMember("chat", "");
    const bucket = threadBucket("chat");
    const queueKey = runLeaseQueueKey(keyPrefix, "g", bucket, member);
    const waitersKey = runLeaseWaitersKey(keyPrefix, "g", bucket, member);
    const queued = () => redis.zcard(queueKey);
    return { first, saver, started, release: held.open, client, queued, redis, queueKey, waitersKey };
  };

  it("two clients: the second run waits for the first, then runs from its final state", async () => {
    const { first, saver, started, release, client, queued, redis, queueKey, waitersKey } = setup("enq-two");
    const one = first.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    const two = client({ perRun: true }).invoke(
      { input: 2 },
      { configurable: { thread_id: "chat", multitask_strategy: "enqueue" } },
    );
    await waitUntil(async () => (await queued()) === 1, 10);
    expect((await saver.threads.get("chat"))?.status).toBe("busy");
    release();
    await Promise.all([one, two]);
    expect((await saver.getTuple(config))?.checkpoint.channel_values.trail).toEqual([
      "a(1)",
      "b1(1)",
      "b2(1)",
      "c(1)",
      "a(2)",
      "b1(2)",
      "b2(2)",
      "c(2)",
    ]);
    expect((await saver.threads.get("chat"))?.status).toBe("idle");
    expect(await redis.exists(queueKey, waitersKey)).toBe(0);
  });

  it("three clients run in the order they arrived", async () => {
    const { first, saver, started, release, client, queued } = setup("enq-three");
    const one = first.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    const two = client().invoke({ input: 2 }, config);
    await waitUntil(async () => (await queued()) === 1, 10);
    const three = client().invoke({ input: 3 }, config);
    await waitUntil(async () => (await queued()) === 2, 10);
    release();
    await Promise.all([one, two, three]);
    const trail = (await saver.getTuple(config))?.checkpoint.channel_values.trail as string[];
    expect(trail.filter((step) => step.startsWith("c("))).toEqual(["c(1)", "c(2)", "c(3)"]);
    expect(trail).toHaveLength(12);
    expect(trail.slice(8)).toEqual(["a(3)", "b1(3)", "b2(3)", "c(3)"]);
  });

  it("the released lease is handed to the head of the queue at once: a run started then finds the thread busy", async () => {
    const { first, saver, started, release, client, queued, redis, queueKey, waitersKey } = setup("enq-handoff");
    const one = first.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    const held = gate();
    const two = client({ until: held.opened }).invoke({ input: 2 }, config);
    await waitUntil(async () => (await queued()) === 1, 10);
    release();
    await one;
    // The first run's release handed the lease to the waiter in the same script: no run can slip in between.
    await expect(client({ strategy: "reject" }).invoke({ input: 3 }, config)).rejects.toBeInstanceOf(RunLeaseHeldError);
    held.open();
    await two;
    const trail = (await saver.getTuple(config))?.checkpoint.channel_values.trail as string[];
    expect(trail.filter((step) => step.startsWith("c("))).toEqual(["c(1)", "c(2)"]);
    expect(await redis.exists(queueKey, waitersKey)).toBe(0);
  });

  it("a waiter whose enqueueWaitMs passes leaves the queue with RunQueueTimeoutError; the next one still runs", async () => {
    const { first, saver, started, release, client, queued } = setup("enq-timeout");
    const one = first.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    const impatient = client({ enqueueWaitMs: 300 })
      .invoke({ input: 2 }, config)
      .catch((error: unknown) => error);
    const patient = client().invoke({ input: 3 }, config);
    const error = await impatient;
    expect(error).toBeInstanceOf(RunQueueTimeoutError);
    expect((error as RunQueueTimeoutError).threadId).toBe("chat");
    await waitUntil(async () => (await queued()) === 1, 10);
    release();
    await Promise.all([one, patient]);
    const trail = (await saver.getTuple(config))?.checkpoint.channel_values.trail as string[];
    expect(trail.filter((step) => step.startsWith("c("))).toEqual(["c(1)", "c(3)"]);
  });

  it("a waiter aborted by its signal leaves the queue with the signal's reason", async () => {
    const { first, started, release, client, queued } = setup("enq-abort");
    const one = first.invoke({ input: 1 }, config);
    await waitUntil(() => started.includes("b1"), 10);
    const controller = new AbortController();
    const waiting = client()
      .invoke({ input: 2 }, { ...config, signal: controller.signal })
      .catch((error: unknown) => error);
    await waitUntil(async () => (await queued()) === 1, 10);
    controller.abort(new Error("caller gave up"));
    expect(String(await waiting)).toContain("caller gave up");
    expect(await queued()).toBe(0);
    release();
    await one;
  });
});
