/**
 * TTL: expired items vanish from get, search and listNamespaces and leave no index entry behind; refreshOnRead
 * pushes the expiry out; a per-write ttlMs overrides the default. Waits poll for the expected state with a generous
 * deadline (no timing is asserted).
 */
import type { RedisClient } from "../../src/client.js";
import { storeItemKeys, storeNamespaceKeys, storeNamespaceMember } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore, registeredMembers, sequencedMembers } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function expiryScore(client: RedisClient, prefix: string, ns: string[], key: string): Promise<number> {
  return Number(await client.zscore(storeNamespaceKeys(prefix, ns).expiry, key));
}

describe.each(targets)("TTL on $name", ({ connect }) => {
  it("expired items vanish from get, search and listNamespaces, and their index entries go", async () => {
    const client = connect();
    const keyPrefix = testPrefix("ttl");
    // refreshOnRead off: polling with get() would otherwise keep the item alive.
    const store = newStore(client, { keyPrefix, ttl: { defaultTtlMs: 60, refreshOnRead: false } });
    await store.put(["mem", "short"], "a", { v: 1 });
    await store.put(["mem", "short"], "b", { v: 2 });
    await store.put(["mem", "mixed"], "gone", { v: 3 });
    await store.put(["mem", "mixed"], "kept", { v: 4 }, { ttlMs: null });
    await waitFor(async () => (await store.get(["mem", "short"], "a")) === null, "item a to expire");
    await waitFor(async () => (await store.search(["mem"])).length === 1, "search to drop expired items");
    expect((await store.search(["mem"])).map((i) => i.key)).toEqual(["kept"]);
    expect(await store.listNamespaces()).toEqual([["mem", "mixed"]]);
    expect(await store.get(["mem", "mixed"], "gone")).toBeNull();

    const short = storeNamespaceKeys(keyPrefix, ["mem", "short"]);
    const mixed = storeNamespaceKeys(keyPrefix, ["mem", "mixed"]);
    expect(await client.exists(short.items, short.order, short.expiry)).toBe(0);
    expect(await client.zrange(mixed.order, "0", "-1")).toEqual(["kept"]);
    expect(await client.hkeys(mixed.items)).toEqual(["kept"]);
    expect(await client.zcard(mixed.expiry)).toBe(0);
    expect(await registeredMembers(client, keyPrefix)).toEqual([storeNamespaceMember(["mem", "mixed"])]);
    expect(await sequencedMembers(client, keyPrefix)).toEqual([storeNamespaceMember(["mem", "mixed"])]);
  });

  it("refreshOnRead pushes the expiry out on get and search; off, reads leave it", async () => {
    const client = connect();
    const keyPrefix = testPrefix("ttl");
    const store = newStore(client, { keyPrefix, ttl: { defaultTtlMs: 60_000 } });
    await store.put(["ns"], "k", { v: 1 });
    const written = await expiryScore(client, keyPrefix, ["ns"], "k");
    await sleep(20);
    await store.get(["ns"], "k");
    const afterGet = await expiryScore(client, keyPrefix, ["ns"], "k");
    expect(afterGet).toBeGreaterThan(written);
    await sleep(20);
    await store.search(["ns"]);
    const afterSearch = await expiryScore(client, keyPrefix, ["ns"], "k");
    expect(afterSearch).toBeGreaterThan(afterGet);
    await sleep(20);
    expect((await store.getWithVersion(["ns"], "k"))?.expiresAt?.getTime()).toBeGreaterThan(afterSearch);
    expect(await client.pttl(storeItemKeys(keyPrefix, ["ns"], "k").history)).toBeGreaterThan(59_000);
    expect(await client.pttl(storeItemKeys(keyPrefix, ["ns"], "k").fenceMarks)).toBeGreaterThan(3_659_000);

    const frozen = newStore(client, { keyPrefix, ttl: { defaultTtlMs: 60_000, refreshOnRead: false } });
    const before = await expiryScore(client, keyPrefix, ["ns"], "k");
    await sleep(20);
    await frozen.get(["ns"], "k");
    await frozen.search(["ns"]);
    expect(await expiryScore(client, keyPrefix, ["ns"], "k")).toBe(before);
  });

  it("a per-write ttlMs overrides the default, and namespace keys expire natively when every item has a TTL", async () => {
    const client = connect();
    const keyPrefix = testPrefix("ttl");
    const store = newStore(client, { keyPrefix });
    const keys = storeNamespaceKeys(keyPrefix, ["ns"]);
    await store.put(["ns"], "a", { v: 1 }, { ttlMs: 60_000 });
    expect(await client.pttl(keys.items)).toBeGreaterThan(0);
    expect(await client.pttl(keys.order)).toBeGreaterThan(0);
    await store.put(["ns"], "b", { v: 2 });
    expect(await client.pttl(keys.items)).toBe(-1);
    expect(await client.zscore(keys.expiry, "b")).toBeNull();
    await store.delete(["ns"], "b");
    expect(await client.pttl(keys.items)).toBeGreaterThan(0);
    // A default TTL, switched off for one write.
    const timed = newStore(client, { keyPrefix, ttl: { defaultTtlMs: 60_000 } });
    await timed.put(["ns"], "c", { v: 3 }, { ttlMs: null });
    expect((await timed.getWithVersion(["ns"], "c"))?.expiresAt).toBeNull();
    expect((await timed.getWithVersion(["ns"], "a"))?.expiresAt).toBeInstanceOf(Date);
  });

  it("an item that expired and is created again continues its versions: a stale compare-and-set fails", async () => {
    const client = connect();
    const keyPrefix = testPrefix("ttl");
    const store = newStore(client, { keyPrefix, ttl: { refreshOnRead: false } });
    const marks = storeItemKeys(keyPrefix, ["cas"], "k").fenceMarks;
    expect(await store.putIfVersion(["cas"], "k", { v: 1 }, null, { ttlMs: 80 })).toBe(1);
    // The item's last version is remembered after it: its TTL, at least an hour (here the hour).
    const remembered = await client.pttl(marks);
    expect(remembered).toBeGreaterThan(3_500_000);
    expect(remembered).toBeLessThanOrEqual(3_600_080);
    await waitFor(async () => (await store.getWithVersion(["cas"], "k")) === null, "the item to expire");
    // The history key expires natively at the same millisecond; Redis counts a key as expired only once its
    // clock has passed that millisecond, so the read above can see the item gone a moment before EXISTS does.
    const history = storeItemKeys(keyPrefix, ["cas"], "k").history;
    await waitFor(async () => (await client.exists(history)) === 0, "the item's history to expire with it");

    // Created again: version 2, never 1 again, so the compare-and-set of a reader of version 1 is refused.
    expect(await store.putIfVersion(["cas"], "k", { v: 2 }, null, { ttlMs: 60_000 })).toBe(2);
    await expect(store.putIfVersion(["cas"], "k", { v: "stale" }, 1)).rejects.toMatchObject({
      name: "VersionConflictError",
      actualVersion: 2,
    });
    expect((await store.get(["cas"], "k"))?.value).toEqual({ v: 2 });

    // The same after a second expiry, after a delete; without a TTL the marks persist.
    expect(await store.putIfVersion(["cas"], "k", { v: 3 }, 2, { ttlMs: 80 })).toBe(3);
    await waitFor(async () => (await store.getWithVersion(["cas"], "k")) === null, "the item to expire again");
    expect(await store.putIfVersion(["cas"], "k", { v: 4 }, 0)).toBe(4);
    expect(await client.pttl(marks)).toBe(-1);
    await store.delete(["cas"], "k");
    expect(await store.putIfVersion(["cas"], "k", { v: 6 }, null)).toBe(6);
  });

  it("sweepExpired walks the registry in bounded steps and unregisters namespaces left empty", async () => {
    const client = connect();
    const keyPrefix = testPrefix("ttl");
    const store = newStore(client, { keyPrefix, ttl: { defaultTtlMs: 50 } });
    for (let i = 0; i < 5; i++) await store.put(["sweep", `n${i}`], "k", { i });
    await store.put(["sweep", "persistent"], "k", { i: -1 }, { ttlMs: null });
    await store.put(["sweep", "persistent"], "short", { i: -2 });
    expect(await registeredMembers(client, keyPrefix)).toHaveLength(6);
    await sleep(100);
    await waitFor(
      async () => (await client.exists(storeNamespaceKeys(keyPrefix, ["sweep", "n0"]).items)) === 0,
      "expiry",
    );
    let cursor: string | null = null;
    let removed = 0;
    let steps = 0;
    do {
      const step = await store.sweepExpired({ cursor, maxNamespaces: 2 });
      expect(step.checked).toBeLessThanOrEqual(2);
      removed += step.removed;
      cursor = step.cursor;
      steps++;
    } while (cursor !== null && steps < 20);
    expect(removed).toBe(5);
    expect(await registeredMembers(client, keyPrefix)).toEqual([storeNamespaceMember(["sweep", "persistent"])]);
    expect(await client.zrange(storeNamespaceKeys(keyPrefix, ["sweep", "persistent"]).order, "0", "-1")).toEqual(["k"]);
  });
});
