/**
 * Lifetime of a thread's keys: ttl.defaultTtlMs puts a TTL on every key of the thread, each write restarts it, refreshOnRead
 * (the default) makes reads restart it too, and an idle thread disappears entirely. deleteThread removes every key (counted).
 */
import type { CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import {
  collect,
  inputMetadata,
  keysWithPrefix,
  loopMetadata,
  makeCheckpoint,
  threadIndexKeyOf,
} from "./saver-helpers.js";

/** A thread with checkpoints in two namespaces, blobs and pending writes: every kind of key exists. */
async function populate(saver: RedisSaver, threadId: string): Promise<void> {
  let parent: string | undefined;
  for (const [i, ns] of ["", "", "child:1"].entries()) {
    const checkpoint = makeCheckpoint({ messages: [`m${i}`], big: "x".repeat(100) });
    const config = await saver.put(
      { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: ns === "" ? parent : undefined } },
      checkpoint,
      // A run id, so the thread also has its run index key.
      { ...(i === 0 ? inputMetadata : loopMetadata(i)), run_id: "run-1" } as unknown as CheckpointMetadata,
      checkpoint.channel_versions,
    );
    if (ns === "") parent = checkpoint.id;
    await saver.putWrites(config, [["messages", [`w${i}`]]], `task${i}`);
    // A write too large to share its checkpoint's writes field has a field of its own and a writesIndex entry.
    if (i === 0) await saver.putWrites(config, [["messages", ["x".repeat(5_000)]]], "large-task");
  }
}

async function threadKeyTtls(saver: RedisSaver, threadId: string): Promise<number[]> {
  // Only leased runs create the run fences key (its TTL is covered in scripts.test.ts); only earlier releases wrote
  // byId.
  const { all, runFences, byId } = saverThreadKeys(saver.keyPrefix, threadId);
  return Promise.all(all.filter((key) => key !== runFences && key !== byId).map((key) => saver.client.pttl(key)));
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(targets)("thread lifetime ($name)", ({ connect }) => {
  it("deleteThread removes every key of the thread and leaves other threads alone", async () => {
    const keyPrefix = testPrefix("del");
    const saver = new RedisSaver({ client: connect(), keyPrefix });
    const [doomed, kept] = ["doomed {1}: *", "kept"];
    await populate(saver, doomed);
    await populate(saver, kept);
    const tagOf = (threadId: string) =>
      /\{[^}]*\}/.exec(saverThreadKeys(keyPrefix, threadId).checkpoints)?.[0] as string;

    // The thread registry's bucket keys are shared by many threads; what they hold is checked below.
    const threadKeysNow = async () =>
      (await keysWithPrefix(saver.client, keyPrefix)).filter((key) => !key.includes("|threads:{"));
    const before = await threadKeysNow();
    const doomedKeys = before.filter((key) => key.includes(tagOf(doomed)));
    expect(doomedKeys).toHaveLength(6);
    expect(await saver.client.zscore(threadIndexKeyOf(keyPrefix, doomed), doomed)).not.toBeNull();
    expect(await saver.threads.get(doomed)).toBeDefined();

    await saver.deleteThread(doomed);

    const after = await threadKeysNow();
    expect(after.filter((key) => key.includes(tagOf(doomed)))).toEqual([]);
    expect(after).toEqual(before.filter((key) => !doomedKeys.includes(key)));
    expect(await saver.client.zscore(threadIndexKeyOf(keyPrefix, doomed), doomed)).toBeNull();
    expect(await saver.threads.get(doomed)).toBeUndefined();
    expect(await saver.getTuple({ configurable: { thread_id: doomed } })).toBeUndefined();
    expect(await collect(saver.list({ configurable: { thread_id: doomed } }))).toEqual([]);
    expect(await collect(saver.list({ configurable: { thread_id: kept } }))).toHaveLength(3);
    // Deleting again (or a thread that never existed) is a no-op.
    await saver.deleteThread(doomed);
    await saver.deleteThread("never existed");
  });

  it("without ttl.defaultTtlMs the keys never expire", async () => {
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("nottl") });
    await populate(saver, "t");
    expect(await threadKeyTtls(saver, "t")).toEqual([-1, -1, -1, -1, -1, -1]);
  });

  it("ttl.defaultTtlMs puts a TTL on every key of the thread, and every write restarts it", async () => {
    const ttlMs = 600_000;
    const saver = new RedisSaver({
      client: connect(),
      keyPrefix: testPrefix("ttl"),
      ttl: { defaultTtlMs: ttlMs, refreshOnRead: false },
    });
    await populate(saver, "t");
    for (const ttl of await threadKeyTtls(saver, "t")) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(ttlMs);
    }

    // Shorten the TTLs by hand, then write: put and putWrites each restore the full TTL on every key.
    const keys = saverThreadKeys(saver.keyPrefix, "t").all;
    await Promise.all(keys.map((key) => saver.client.pexpire(key, 5_000)));
    const checkpoint = makeCheckpoint({ messages: ["later"] });
    const config = await saver.put({ configurable: { thread_id: "t" } }, checkpoint, loopMetadata(9), {});
    for (const ttl of await threadKeyTtls(saver, "t")) expect(ttl).toBeGreaterThan(5_000);
    await Promise.all(keys.map((key) => saver.client.pexpire(key, 5_000)));
    await saver.putWrites(config, [["messages", ["w"]]], "late-task");
    for (const ttl of await threadKeyTtls(saver, "t")) expect(ttl).toBeGreaterThan(5_000);

    // With refreshOnRead off, reads do not restart it.
    await Promise.all(keys.map((key) => saver.client.pexpire(key, 5_000)));
    await saver.getTuple({ configurable: { thread_id: "t" } });
    for (const ttl of await threadKeyTtls(saver, "t")) expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it("refreshOnRead (the default) restarts the TTL on getTuple and list", async () => {
    const ttlMs = 600_000;
    const saver = new RedisSaver({ client: connect(), keyPrefix: testPrefix("ror"), ttl: { defaultTtlMs: ttlMs } });
    await populate(saver, "t");
    const keys = saverThreadKeys(saver.keyPrefix, "t").all;

    await Promise.all(keys.map((key) => saver.client.pexpire(key, 5_000)));
    await saver.getTuple({ configurable: { thread_id: "t" } });
    for (const ttl of await threadKeyTtls(saver, "t")) expect(ttl).toBeGreaterThan(5_000);

    await Promise.all(keys.map((key) => saver.client.pexpire(key, 5_000)));
    await collect(saver.list({ configurable: { thread_id: "t" } }, { limit: 1 }));
    for (const ttl of await threadKeyTtls(saver, "t")) expect(ttl).toBeGreaterThan(5_000);
  });

  it("an idle thread expires completely, and drops out of list() across threads", async () => {
    const keyPrefix = testPrefix("idle");
    const saver = new RedisSaver({ client: connect(), keyPrefix, ttl: { defaultTtlMs: 2_000 } });
    await populate(saver, "short-lived");
    const threadKeys = saverThreadKeys(keyPrefix, "short-lived").all;
    expect(await saver.client.exists(...threadKeys)).toBe(6);

    await waitUntil(async () => (await saver.client.exists(...threadKeys)) === 0);
    expect(await keysWithPrefix(saver.client, `${keyPrefix}|saver:{`)).toEqual([]);
    expect(await collect(saver.list({}))).toEqual([]);
    // list() found the thread gone and removed its index entry and registry record.
    expect(await saver.client.zscore(threadIndexKeyOf(keyPrefix, "short-lived"), "short-lived")).toBeNull();
    expect(await saver.threads.get("short-lived")).toBeUndefined();
  });
});
