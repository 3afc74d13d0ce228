/**
 * Run leases with an offline saver (a proxy the test cuts makes Redis unreachable for the run's process only).
 * The run keeps its lease through an outage longer than leaseMs; when Redis answers, the lease is re-validated
 * before the journal is replayed, and released only after it. A recoverer that took the run over during a partition
 * wins the thread: the offline branch goes to a fork, reported, and nothing acknowledged is lost.
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import type { Redis } from "ioredis";
import { RedisSaver, RunLeaseLostError, resumeCrashedRuns, withRunLease } from "../../src/index.js";
import { runLeaseIndexKey, threadBucket } from "../../src/keys.js";
import { offlineOptionsSchema } from "../../src/offline/options.js";
import { OfflineSession } from "../../src/offline/session.js";
import { newRedis, testPrefix } from "../helpers/redis.js";
import { nextOnline, offlineFixtures, quickOffline } from "./offline-fixtures.js";

const { cleanup, journalDir, proxied } = offlineFixtures();

const State = Annotation.Root({
  trail: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  return { open, opened, reached, arrived };
}

/** a -> slow -> c; `slow` waits for the gate the first time it runs in this graph. */
function graphWith(checkpointer: RedisSaver, slow: ReturnType<typeof gate> | undefined, who: string) {
  return new StateGraph(State)
    .addNode("a", () => ({ trail: [`a:${who}`] }))
    .addNode("slow", async () => {
      if (slow) {
        slow.reached();
        await slow.opened;
      }
      return { trail: [`slow:${who}`] };
    })
    .addNode("c", () => ({ trail: [`c:${who}`] }))
    .addEdge(START, "a")
    .addEdge("a", "slow")
    .addEdge("slow", "c")
    .addEdge("c", END)
    .compile({ checkpointer, name: "g" });
}

function setup(client: Redis, keyPrefix: string) {
  const saver = new RedisSaver({ client, keyPrefix, offline: quickOffline(journalDir("lease")) });
  cleanup.push(() => saver.close());
  return saver;
}

describe("run leases through an outage", () => {
  it("keeps the lease through an outage longer than leaseMs; re-validated before the replay, released after it", async () => {
    const { proxy, client } = await proxied();
    const keyPrefix = testPrefix("lease");
    const saver = setup(client, keyPrefix);
    const slow = gate();
    const app = withRunLease(graphWith(saver, slow, "agent"), { client, keyPrefix, leaseMs: 300, heartbeatMs: 100 });
    const config = { configurable: { thread_id: testPrefix("thread") } };
    const run = app.invoke({ trail: [] }, config);
    await slow.arrived;
    await proxy.cut();
    // the outage outlives the lease several times over
    await new Promise((resolve) => setTimeout(resolve, 1200));
    slow.open();
    const final = (await run) as { trail: string[] };
    expect(final.trail).toEqual(["a:agent", "slow:agent", "c:agent"]);
    expect(saver.offlineState).toBe("offline");

    const online = nextOnline(saver);
    await proxy.restore();
    const result = await online;
    expect(result).toMatchObject({ forked: 0, conflicts: [], rejected: [] });
    expect(result.applied).toBeGreaterThan(0);

    const direct = newRedis();
    const reader = new RedisSaver({ client: direct, keyPrefix });
    const stored = await reader.getTuple(config);
    expect(stored?.checkpoint.channel_values).toMatchObject({ trail: final.trail });
    // the lease is released once the replay is done, and a recoverer finds nothing to resume
    const index = runLeaseIndexKey(keyPrefix, "g", threadBucket(config.configurable.thread_id));
    const deadline = Date.now() + 20_000;
    while ((await direct.zcard(index)) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await direct.zcard(index)).toBe(0);
    const recoverer = withRunLease(graphWith(reader, undefined, "recoverer"), {
      client: direct,
      keyPrefix,
      leaseMs: 2000,
      owner: "recoverer",
    });
    expect((await resumeCrashedRuns(recoverer)).resumed).toBe(0);
  });

  it("a recoverer that took the run over during a partition keeps the thread; the offline branch is forked", async () => {
    const { proxy, client } = await proxied();
    const keyPrefix = testPrefix("lease");
    const saver = setup(client, keyPrefix);
    const slow = gate();
    const app = withRunLease(graphWith(saver, slow, "agent"), { client, keyPrefix, leaseMs: 300, heartbeatMs: 100 });
    const threadId = testPrefix("thread");
    const config = { configurable: { thread_id: threadId } };
    const run = app.invoke({ trail: [] }, config);
    await slow.arrived;
    await proxy.cut();

    // the rest of the world still reaches Redis: once the lease has expired, a recoverer resumes the run
    const direct = newRedis();
    const reader = new RedisSaver({ client: direct, keyPrefix });
    const recoverer = withRunLease(graphWith(reader, undefined, "recoverer"), {
      client: direct,
      keyPrefix,
      leaseMs: 2000,
      owner: "recoverer",
    });
    const deadline = Date.now() + 20_000;
    let resumed = 0;
    while (resumed === 0 && Date.now() < deadline) {
      resumed = (await resumeCrashedRuns(recoverer)).resumed;
      if (resumed === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(resumed).toBe(1);
    const theirs = await reader.getTuple(config);
    expect(theirs?.checkpoint.channel_values).toMatchObject({ trail: ["a:agent", "slow:recoverer", "c:recoverer"] });

    // the partitioned agent finishes its step on its journal
    slow.open();
    const online = nextOnline(saver);
    const outcome = await run.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await proxy.restore();
    const result = await online;
    expect(result.conflicts).toHaveLength(1);
    const conflict = result.conflicts[0];
    expect(conflict).toMatchObject({ kind: "thread", threadId });
    // the thread is the recoverer's; the agent's offline checkpoints are whole in the fork
    expect((await reader.getTuple(config))?.checkpoint.id).toBe(theirs?.checkpoint.id);
    if (conflict?.kind !== "thread") throw new Error("expected a thread conflict");
    expect(conflict.checkpointIds.length).toBeGreaterThan(0);
    const fork = await reader.getTuple({ configurable: { thread_id: conflict.forkThreadId } });
    expect(fork?.checkpoint.channel_values).toMatchObject({ trail: expect.arrayContaining(["slow:agent"]) });
    // the agent's invoke either finished offline or was aborted when its lease was found taken over
    if ("error" in outcome) expect(outcome.error).toBeInstanceOf(RunLeaseLostError);
  });
});

describe("the order of lease re-validation and replay", () => {
  it("runs every pre-replay step (the leases) before the first journal record, and none of them when Redis is down", async () => {
    const { proxy, client } = await proxied();
    const dir = journalDir("order");
    const session = new OfflineSession(
      client,
      offlineOptionsSchema.parse({ journalDir: dir, probeIntervalMs: 60_000 }),
      "order",
      "Test",
    );
    cleanup.push(() => session.close());
    const order: string[] = [];
    session.attach({
      apply: async (record) => {
        order.push(`apply ${record.seq}`);
        return "applied";
      },
      takeConflicts: () => [],
      finished: () => order.push("finished"),
    });
    session.onBeforeReplay(async () => {
      order.push("lease");
    });
    await session.ready();
    session.goOffline(new Error("test"));
    await session.append({ n: 1 }, Buffer.from("a"));
    await session.append({ n: 2 }, Buffer.from("b"));
    await proxy.cut();
    await expect(session.replay()).rejects.toThrow();
    expect(order).toEqual([]);
    await proxy.restore();
    const deadline = Date.now() + 20_000;
    let result: Awaited<ReturnType<typeof session.replay>> | undefined;
    while (result === undefined) {
      result = await session.replay().catch((error: unknown) => {
        if (Date.now() > deadline) throw error;
        return undefined;
      });
      if (result === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(order).toEqual(["lease", "apply 1", "apply 2", "finished"]);
    expect(result.applied).toBe(2);
    expect(session.state).toBe("online");
  });
});
