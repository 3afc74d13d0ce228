/**
 * list() without a thread_id: threads spread over every slot (and every node of the cluster) are all found through
 * the cross-thread index; stale entries (a thread deleted or expired behind the index's back) are cleaned lazily,
 * and a thread written while the cleaner looked at it keeps its entry.
 */
import type { Cluster } from "ioredis";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys, threadBucket, threadRegistryKeys } from "../../src/keys.js";
import { createSaverContext } from "../../src/saver/context.js";
import { forgetThread } from "../../src/saver/thread-index.js";
import { newCluster, targets, testPrefix } from "../helpers/redis.js";
import { collect, inputMetadata, loopMetadata, makeCheckpoint, threadIndexKeyOf } from "./saver-helpers.js";

describe.each(targets)("list() across threads ($name)", ({ connect }) => {
  it("finds every thread, newest activity first, with namespace, before, filter and limit", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("xt") });
    const threads = Array.from({ length: 30 }, (_, i) => `thread-${i}`);
    for (const [i, threadId] of threads.entries()) {
      const checkpoint = makeCheckpoint({ owner: threadId });
      await saver.put(
        { configurable: { thread_id: threadId, checkpoint_ns: i % 2 === 0 ? "" : "child:x" } },
        checkpoint,
        { ...inputMetadata, step: i },
        checkpoint.channel_versions,
      );
    }
    const all = await collect(saver.list({}));
    expect(new Set(all.map((t) => t.config.configurable?.thread_id))).toEqual(new Set(threads));
    // Threads come most recently active first.
    expect(all[0]?.config.configurable?.thread_id).toBe("thread-29");

    const rootOnly = await collect(saver.list({ configurable: { checkpoint_ns: "" } }));
    expect(rootOnly).toHaveLength(15);
    const stepFour = await collect(saver.list({}, { filter: { step: 4 } }));
    expect(stepFour.map((t) => t.config.configurable?.thread_id)).toEqual(["thread-4"]);
    expect(await collect(saver.list({}, { limit: 7 }))).toHaveLength(7);
    const beforeId = all.find((t) => t.config.configurable?.thread_id === "thread-10")?.checkpoint.id;
    const older = await collect(saver.list({}, { before: { configurable: { checkpoint_id: beforeId } } }));
    expect(older).toHaveLength(10);
  });

  it("refreshes a thread's entry at most about once a second per process, and at its first checkpoint", async () => {
    const keyPrefix = testPrefix("often");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const put = async (threadId: string, parent?: string) => {
      const config = { configurable: { thread_id: threadId, ...(parent ? { checkpoint_id: parent } : {}) } };
      const checkpoint = makeCheckpoint({ owner: threadId });
      await saver.put(config, checkpoint, parent ? loopMetadata(1) : inputMetadata, checkpoint.channel_versions);
      return checkpoint.id;
    };
    const order = async () => [
      ...new Set((await collect(saver.list({}))).map((t) => t.config.configurable?.thread_id)),
    ];
    const started = performance.now();
    const a = await put("a");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await put("b");
    // A second write of "a" within the second: its entry keeps the score of its first write, "b" stays ahead. (On
    // a machine so loaded that the three puts took most of a second, the second write may rightly refresh it.)
    const a2 = await put("a", a);
    if (performance.now() - started < 800) expect((await order()).slice(0, 2)).toEqual(["b", "a"]);
    const scoreA = await saver.client.zscore(threadIndexKeyOf(keyPrefix, "a"), "a");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await put("a", a2);
    expect((await order()).slice(0, 2)).toEqual(["a", "b"]);
    expect(Number(await saver.client.zscore(threadIndexKeyOf(keyPrefix, "a"), "a"))).toBeGreaterThan(Number(scoreA));
  });

  it("drops the index entry of a thread whose keys are gone, on the next list()", async () => {
    const keyPrefix = testPrefix("stale");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    for (const threadId of ["alive", "vanished"]) {
      await saver.put({ configurable: { thread_id: threadId } }, makeCheckpoint(), inputMetadata, {});
    }
    // The thread disappears without its index entry (as after a crash mid-deleteThread).
    await saver.client.unlink(...saverThreadKeys(keyPrefix, "vanished").all);
    const index = threadIndexKeyOf(keyPrefix, "vanished");
    expect(await saver.client.zscore(index, "vanished")).not.toBeNull();
    // A registered thread is kept while it lives (it may have been created on purpose): this one lost its record too.
    await saver.client.hdel(threadRegistryKeys(keyPrefix, threadBucket("vanished")).records, "vanished");

    const listed = await collect(saver.list({}));
    expect(listed.map((t) => t.config.configurable?.thread_id)).toEqual(["alive"]);
    expect(await saver.client.zscore(index, "vanished")).toBeNull();
    expect(await saver.client.zscore(threadIndexKeyOf(keyPrefix, "alive"), "alive")).not.toBeNull();
  });

  it("keeps the entry of a thread written after the cleaner read its score", async () => {
    const keyPrefix = testPrefix("race");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const index = threadIndexKeyOf(keyPrefix, "t");
    const registry = threadRegistryKeys(keyPrefix, threadBucket("t")).records;
    await saver.put({ configurable: { thread_id: "t" } }, makeCheckpoint(), inputMetadata, {});
    // The cleaner finds the thread empty (its keys and record gone, its entry left) and reads the entry's score, with
    // the score ahead of the clock as after many writes within a millisecond.
    await saver.client.unlink(...saverThreadKeys(keyPrefix, "t").all);
    await saver.client.hdel(registry, "t");
    await saver.client.zadd(index, Date.now() + 3_600_000, "t");
    const seenScore = (await saver.client.zscore(index, "t")) as string;
    // A write lands between the cleaner's read and its removal: the score moves on, so the entry stays. (A loop step
    // after a parent: it registers nothing, so only the score protects the entry.)
    await saver.put({ configurable: { thread_id: "t", checkpoint_id: "gone" } }, makeCheckpoint(), loopMetadata(1), {});
    expect(await saver.client.hexists(registry, "t")).toBe(0);
    const context = createSaverContext({
      client: saver.client,
      keyPrefix,
      ttl: { refreshOnRead: false },
      serde: saver.serde,
    });
    await forgetThread(context, "t", seenScore);
    expect(await saver.client.zscore(index, "t")).not.toBeNull();
    expect(Number(await saver.client.zscore(index, "t"))).toBeGreaterThan(Number(seenScore));
    // Registered (a run's first checkpoint registers it): kept while it lives, even when seen empty.
    await saver.put({ configurable: { thread_id: "t" } }, makeCheckpoint(), inputMetadata, {});
    await forgetThread(context, "t", (await saver.client.zscore(index, "t")) as string);
    expect(await saver.client.zscore(index, "t")).not.toBeNull();
    await saver.client.hdel(threadRegistryKeys(keyPrefix, threadBucket("t")).records, "t");
    await forgetThread(context, "t", (await saver.client.zscore(index, "t")) as string);
    expect(await saver.client.zscore(index, "t")).toBeNull();
  });
});

describe("cross-thread index on a cluster", () => {
  it("lists threads whose keys live on every master", async () => {
    const cluster: Cluster = newCluster();
    const saver = new RedisSaver({ client: cluster, keyPrefix: testPrefix("spread") });
    const threads = Array.from({ length: 40 }, (_, i) => `spread-${i}`);
    for (const threadId of threads) {
      await saver.put({ configurable: { thread_id: threadId } }, makeCheckpoint(), inputMetadata, {});
    }
    // The threads' keys really are spread over all three masters.
    const masters = new Set<string>();
    for (const threadId of threads) {
      const slot = Number(await cluster.cluster("KEYSLOT", saverThreadKeys(saver.keyPrefix, threadId).checkpoints));
      const slots = (await cluster.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
      const owner = slots.find(([from, to]) => slot >= from && slot <= to);
      masters.add(String(owner?.[2]?.[1]));
    }
    expect(masters.size).toBe(3);
    const listed = await collect(saver.list({}));
    expect(new Set(listed.map((t) => t.config.configurable?.thread_id))).toEqual(new Set(threads));
  });
});
