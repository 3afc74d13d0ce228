/**
 * The thread registry (saver.threads): kept by put() and by threads.update, read by get, search and count through
 * the bucketed indexes; the registry script's own rules (statuses, indexed members, TTL trimming).
 */
import type { Cluster } from "ioredis";
import { InvalidInputError, RedisSaver } from "../../src/index.js";
import { bucketTag, THREAD_BUCKETS, threadBucket, threadRegistryKeys } from "../../src/keys.js";
import { keySlot } from "../../src/slot.js";
import { newCluster, targets, testPrefix } from "../helpers/redis.js";
import { runRawScript } from "../helpers/scripts.js";
import { inputMetadata, loopMetadata, makeCheckpoint } from "./saver-helpers.js";

async function startRun(saver: RedisSaver, threadId: string, metadata: Record<string, unknown> = {}) {
  const checkpoint = makeCheckpoint({ owner: threadId });
  const config = await saver.put(
    { configurable: { thread_id: threadId }, metadata },
    checkpoint,
    inputMetadata,
    checkpoint.channel_versions,
  );
  return config;
}

describe.each(targets)("thread registry ($name)", ({ connect }) => {
  it("registers a thread at its first checkpoint, with the indexed fields of the run's config metadata", async () => {
    const saver = new RedisSaver({
      client: connect(),
      keyPrefix: testPrefix("reg"),
      threads: { indexedMetadata: ["user_id", "tier"] },
    });
    expect(await saver.threads.get("t1")).toBeUndefined();
    const config = await startRun(saver, "t1", { user_id: "alice", tier: 2, note: { not: "indexed" } });
    const first = await saver.threads.get("t1");
    expect(first).toMatchObject({ threadId: "t1", status: "idle", metadata: { user_id: "alice", tier: 2 } });
    expect(first?.createdAt.getTime()).toBeLessThanOrEqual(first?.updatedAt.getTime() ?? 0);
    // A later step (source "loop") moves updatedAt on without another registry write, to within a second (a process
    // refreshes a thread's index entry about once a second).
    const next = await saver.put(config, makeCheckpoint(), loopMetadata(0), {});
    const soon = await saver.threads.get("t1");
    expect(soon?.updatedAt.getTime()).toBeGreaterThanOrEqual(first?.updatedAt.getTime() ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await saver.put(next, makeCheckpoint(), loopMetadata(1), {});
    const later = await saver.threads.get("t1");
    expect(later?.createdAt).toEqual(first?.createdAt);
    expect(later?.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? 0);

    // threads.update merges metadata (null removes a field); indexed values must be scalars.
    const updated = await saver.threads.update("t1", { metadata: { tier: null, topic: ["a", "b"] } });
    expect(updated.metadata).toEqual({ user_id: "alice", topic: ["a", "b"] });
    await expect(saver.threads.update("t1", { metadata: { user_id: { nested: 1 } } })).rejects.toThrow(
      InvalidInputError,
    );
    expect((await saver.threads.get("t1"))?.metadata).toEqual({ user_id: "alice", topic: ["a", "b"] });

    await saver.deleteThread("t1");
    expect(await saver.threads.get("t1")).toBeUndefined();
    expect(await saver.threads.count({ metadata: { user_id: "alice" } })).toBe(0);
  });

  it("search: one user's threads newest first, in pages, with status and updatedAfter; count", async () => {
    const saver = new RedisSaver({
      client: connect(),
      keyPrefix: testPrefix("search"),
      threads: { indexedMetadata: ["user_id"] },
    });
    const users = ["u1", "u2", "u3"];
    const threads = Array.from({ length: 45 }, (_, i) => ({ threadId: `thread-${i}`, user: users[i % 3] as string }));
    for (const { threadId, user } of threads) await startRun(saver, threadId, { user_id: user });

    const mine = threads.filter((t) => t.user === "u2").map((t) => t.threadId);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await saver.threads.search({ metadata: { user_id: "u2" }, limit: 4, cursor });
      expect(page.threads.length).toBeLessThanOrEqual(4);
      seen.push(...page.threads.map((t) => t.threadId));
      for (const t of page.threads) expect(t.metadata.user_id).toBe("u2");
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== undefined && pages < 20);
    expect(new Set(seen)).toEqual(new Set(mine));
    expect(seen).toHaveLength(mine.length);
    // Newest created first: created times never increase along the pages.
    const created = await Promise.all(seen.map(async (id) => (await saver.threads.get(id))?.createdAt.getTime()));
    for (let i = 1; i < created.length; i++) expect(created[i]).toBeLessThanOrEqual(created[i - 1] as number);
    expect(seen[0]).toBe(mine.at(-1));

    expect(await saver.threads.count({ metadata: { user_id: "u2" } })).toBe(15);
    expect(await saver.threads.count()).toBe(45);
    expect(await saver.threads.count({ status: "idle" })).toBe(45);
    expect(await saver.threads.count({ status: "busy" })).toBe(0);
    expect((await saver.threads.search({ limit: 1000 })).threads).toHaveLength(45);

    // updatedAfter and a second condition filter the driving index's matches.
    const cut = (await saver.threads.get("thread-40"))?.updatedAt.getTime() as number;
    const recent = await saver.threads.search({ metadata: { user_id: "u2" }, updatedAfter: cut, limit: 100 });
    const expected = [];
    for (const id of mine) {
      if (((await saver.threads.get(id))?.updatedAt.getTime() ?? 0) > cut) expected.push(id);
    }
    expect(recent.threads.map((t) => t.threadId).sort()).toEqual(expected.sort());
    expect(recent.cursor).toBeUndefined();
    expect(await saver.threads.count({ metadata: { user_id: "u2" }, status: "busy" })).toBe(0);
  });

  it("refuses conditions it cannot serve from an index, and malformed input, with named errors", async () => {
    const saver = new RedisSaver({
      client: connect(),
      keyPrefix: testPrefix("bad"),
      threads: { indexedMetadata: ["user_id"] },
    });
    await expect(saver.threads.search({ metadata: { team: "x" } })).rejects.toThrow(/not indexed/);
    await expect(saver.threads.search({ status: "sleeping" as never })).rejects.toThrow(InvalidInputError);
    await expect(saver.threads.search({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(saver.threads.search({ cursor: "bm9wZQ" })).rejects.toThrow(/cursor/);
    await expect(saver.threads.search({ updatedAfter: "yesterday" as never })).rejects.toThrow(/updatedAfter/);
    await expect(saver.threads.get("")).rejects.toThrow(InvalidInputError);
    await expect(saver.threads.update("t", { metadata: { "": 1 } })).rejects.toThrow(InvalidInputError);
    expect(() => new RedisSaver({ client: connect(), threads: { indexedMetadata: ["a\u0000b"] } })).toThrow(/threads/);
  });

  it("saverRegisterThread keeps index members in step and drops threads idle past the TTL", async () => {
    const client = connect();
    const prefix = testPrefix("regscript");
    const keys = threadRegistryKeys(prefix, 3);
    const all = [keys.updated, keys.records, keys.index];
    const register = (threadId: string, status: string, touch: "1" | "0", ...pairs: string[]) =>
      runRawScript(client, "saverRegisterThread", all, [threadId, 60_000, 0, status, touch, 1, "user", ...pairs]);
    await register("a", "", "0", "user", '"x"', "note", '"n"');
    const members = await client.zrange(keys.index, "0", "-1");
    expect(members.map((m) => m.replace(/\d{15}/, "T"))).toEqual([
      "c\u0000T\u0000a",
      'm\u0000user\u0000"x"\u0000T\u0000a',
      "s\u0000idle\u0000T\u0000a",
    ]);
    await register("a", "busy", "1", "user", '"y"');
    const after = (await client.zrange(keys.index, "0", "-1")).map((m) => m.replace(/\d{15}/, "T"));
    expect(after).toEqual(["c\u0000T\u0000a", 'm\u0000user\u0000"y"\u0000T\u0000a', "s\u0000busy\u0000T\u0000a"]);
    // An entry idle past ttlMs + graceMs goes with its record and members when the bucket next registers.
    await client.zadd(keys.updated, 1, "a");
    await register("b", "", "1");
    expect(await client.hexists(keys.records, "a")).toBe(0);
    expect((await client.zrange(keys.index, "0", "-1")).some((m) => m.endsWith("\u0000a"))).toBe(false);
    expect(await client.zscore(keys.updated, "b")).not.toBeNull();
  });
});

describe("thread registry on a cluster", () => {
  it("spreads the buckets over every master, and uniform writes over many threads reach all of them", async () => {
    const cluster: Cluster = newCluster();
    const slots = (await cluster.cluster("SLOTS")) as unknown as [number, number, [string, number]][];
    const ownerOf = (slot: number) => String(slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1]);
    // Bucket tags sit in evenly spaced slot ranges: 16 buckets over 3 masters holding a third of the slots each.
    const perMaster = new Map<string, number>();
    for (let bucket = 0; bucket < THREAD_BUCKETS; bucket++) {
      const owner = ownerOf(keySlot(`{${bucketTag(bucket)}}`));
      perMaster.set(owner, (perMaster.get(owner) ?? 0) + 1);
    }
    expect(perMaster.size).toBe(3);
    expect(Math.max(...perMaster.values()) - Math.min(...perMaster.values())).toBeLessThanOrEqual(1);

    const saver = new RedisSaver({
      client: cluster,
      keyPrefix: testPrefix("spread"),
      threads: { indexedMetadata: ["u"] },
    });
    const threads = Array.from({ length: 160 }, (_, i) => `t-${i}`);
    for (const threadId of threads) await startRun(saver, threadId, { u: `user-${threadId.length}` });
    const usedBuckets = new Set(threads.map(threadBucket));
    expect(usedBuckets.size).toBe(THREAD_BUCKETS);
    const mastersWithRecords = new Set<string>();
    for (const bucket of usedBuckets) {
      const key = threadRegistryKeys(saver.keyPrefix, bucket).records;
      if ((await cluster.hlen(key)) > 0) mastersWithRecords.add(ownerOf(keySlot(key)));
    }
    expect(mastersWithRecords.size).toBe(3);
    expect(await saver.threads.count()).toBe(160);
  });
});
