/**
 * Runs across real processes: two worker processes double-text one thread (interrupt and rollback strategies), and
 * a third party (this test process) cancels a run another process holds. Final state and run order are checked
 * from here. Every child is started and killed by pid (test/helpers/child-process.ts).
 */
import { join } from "node:path";
import { cancelRun, RedisSaver, withRunLease } from "../../src/index.js";
import { runLeaseMember, runLeaseQueueKey, threadBucket } from "../../src/keys.js";
import { finished, startChild, stopAll } from "../helpers/child-process.js";
import { clusterNodes, newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { testGraph, waitUntil } from "./helpers.js";

const worker = join("test", "recovery", "fixtures", "run-worker.ts");

const deployments = [
  { name: "standalone", where: () => ({ REDIS_URL: redisUrl() }), connect: newRedis },
  {
    name: "cluster",
    where: () => ({
      CLUSTER_NODES: clusterNodes()
        .map((n) => `${n.host}:${n.port}`)
        .join(","),
    }),
    connect: newCluster,
  },
];

afterEach(async () => {
  await stopAll();
});

describe.each(deployments)("runs across processes ($name)", ({ where, connect }) => {
  const start = (settings: Record<string, string>) =>
    startChild(["--import", "tsx", worker, JSON.stringify({ ...where(), ...settings })]);

  it.each(["interrupt", "rollback"] as const)("double texting from two processes under %s", async (strategy) => {
    const keyPrefix = testPrefix(`proc-${strategy}`);
    const thread = { KEY_PREFIX: keyPrefix, THREAD_ID: "chat" };
    await finished(start({ ...thread, INPUT: "0" }), 60_000);
    const first = start({ ...thread, INPUT: "1", SLOW: "1" });
    await first.waitForLine(/STARTED first/, 60_000);
    const second = start({ ...thread, INPUT: "2", STRATEGY: strategy });
    expect((await finished(second, 60_000)).at(-1)).toBe("DONE");
    expect((await finished(first, 60_000)).at(-1)).toBe(`CANCELLED ${strategy}`);

    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const state = await saver.getTuple({ configurable: { thread_id: "chat" } });
    // The first run never finished a node: under either strategy only runs 0 and 2 wrote state, in that order.
    expect(state?.checkpoint.channel_values.log).toEqual(["first(0)", "second(0)", "first(2)", "second(2)"]);
    expect((await saver.threads.get("chat"))?.status).toBe("idle");
    const inputs: unknown[] = [];
    for await (const tuple of saver.list({ configurable: { thread_id: "chat" } })) {
      inputs.push(tuple.checkpoint.channel_values.input);
    }
    if (strategy === "rollback") expect(inputs).not.toContain("1");
  });

  it("enqueue: a queued waiter killed with SIGKILL does not block the queue beyond its bound", async () => {
    const keyPrefix = testPrefix("proc-enqueue");
    const thread = { KEY_PREFIX: keyPrefix, THREAD_ID: "chat" };
    const redis = connect();
    const queueKey = runLeaseQueueKey(keyPrefix, "runs", threadBucket("chat"), runLeaseMember("chat", ""));
    const holder = start({ ...thread, INPUT: "1", SLOW: "1" });
    await holder.waitForLine(/STARTED first/, 60_000);
    const doomed = start({ ...thread, INPUT: "2", STRATEGY: "enqueue" });
    await waitUntil(async () => (await redis.zcard(queueKey)) === 1, 20, 60_000);
    const next = start({ ...thread, INPUT: "3", STRATEGY: "enqueue" });
    await waitUntil(async () => (await redis.zcard(queueKey)) === 2, 20, 60_000);
    doomed.kill("SIGKILL");
    await doomed.exited;
    // The holder stops; the dead waiter's place is skipped once its keep-alive (leaseMs) passes, and the next runs.
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const app = withRunLease(testGraph({ checkpointer: saver }), { client: connect(), keyPrefix, name: "runs" });
    expect((await cancelRun(app, "chat", { action: "rollback" })).outcome).toBe("cancelled");
    expect((await finished(holder, 60_000)).at(-1)).toBe("CANCELLED rollback");
    expect((await finished(next, 60_000)).at(-1)).toBe("DONE");
    const state = await saver.getTuple({ configurable: { thread_id: "chat" } });
    expect(state?.checkpoint.channel_values.log).toEqual(["first(3)", "second(3)"]);
    expect(await redis.zcard(queueKey)).toBe(0);
  });

  it("a third process cancels a run another process holds", async () => {
    const keyPrefix = testPrefix("proc-cancel");
    const holder = start({ KEY_PREFIX: keyPrefix, THREAD_ID: "job", INPUT: "1", SLOW: "1" });
    await holder.waitForLine(/STARTED first/, 60_000);
    // This process only shares the graph's name and prefix: any leased graph of that name can cancel its runs.
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    expect((await saver.threads.get("job"))?.status).toBe("busy");
    const app = withRunLease(testGraph({ checkpointer: saver }), { client: connect(), keyPrefix, name: "runs" });
    const result = await cancelRun(app, "job", { action: "interrupt" });
    expect(result.outcome).toBe("cancelled");
    expect((await finished(holder, 60_000)).at(-1)).toBe("CANCELLED interrupt");
    expect((await saver.threads.get("job"))?.status).toBe("interrupted");
  });
});
