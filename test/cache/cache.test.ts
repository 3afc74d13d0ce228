/**
 * RedisCache against LangGraph's InMemoryCache semantics (get leaves out missing and expired entries, in key order;
 * set overwrites; ttl in seconds; clear by exact namespace, or everything), plus what Redis adds: server-side TTL
 * with bounded pruning and key expiry, buckets spread over slots, clear without KEYS/SCAN, named errors. Waits
 * poll with a generous deadline; no timing is asserted.
 */
import { type CacheFullKey, InMemoryCache } from "@langchain/langgraph-checkpoint";
import { bucketOf } from "../../src/cache/codec.js";
import { REGISTRY_PAGE } from "../../src/cache/context.js";
import type { RedisClient } from "../../src/client.js";
import {
  CorruptDataError,
  EncryptedSerializer,
  InvalidInputError,
  InvalidOptionError,
  RedisCache,
  type RedisCacheOptions,
  ValueTooLargeError,
} from "../../src/index.js";
import { cacheBucketKeys, cacheNamespaceMember, cacheRegistryKey } from "../../src/keys.js";
import { keySlot } from "../../src/routing.js";
import { targets, testPrefix } from "../helpers/redis.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function newCache(client: RedisClient, options: Partial<RedisCacheOptions> = {}): RedisCache {
  return new RedisCache({ client, keyPrefix: testPrefix("cache"), ...options });
}

describe.each(targets)("RedisCache on $name", ({ connect }) => {
  it("matches InMemoryCache on a mixed sequence of sets, gets and clears", async () => {
    const redis = newCache(connect());
    const memory = new InMemoryCache();
    const a: CacheFullKey = [["__pregel_ns_writes", "node", "node"], "k1"];
    const b: CacheFullKey = [["__pregel_ns_writes", "node", "node"], "k2"];
    const c: CacheFullKey = [["__pregel_ns_writes", "other"], "k1"];
    const d: CacheFullKey = [[], "root"];
    const e: CacheFullKey = [["solo"], "root"];
    const values = [
      { n: 1, text: "héllo", nested: { list: [1, 2, 3] } },
      [["messages", "hi"]],
      "plain string",
      null,
      0,
    ];
    const steps: ((cache: RedisCache | InMemoryCache) => Promise<unknown>)[] = [
      (cache) => cache.set([{ key: a, value: values[0] }]),
      (cache) => cache.get([a, b, c]),
      (cache) =>
        cache.set([
          { key: b, value: values[1] },
          { key: c, value: values[2] },
        ]),
      (cache) =>
        cache.set([
          { key: d, value: values[3] },
          { key: e, value: values[4] },
        ]),
      (cache) => cache.get([c, b, a, a, d, e]),
      (cache) => cache.set([{ key: a, value: "overwritten" }]),
      (cache) => cache.get([a]),
      (cache) => cache.clear([["__pregel_ns_writes", "node", "node"]]),
      (cache) => cache.get([a, b, c, d, e]),
      (cache) => cache.clear([]),
      (cache) => cache.get([a, b, c, d, e]),
      (cache) => cache.get([]),
    ];
    for (const [i, step] of steps.entries()) {
      expect(await step(redis), `step ${i}`).toEqual(await step(memory));
    }
  });

  it('keeps namespaces apart that InMemoryCache merges ([] and [""], ["a,b"] and ["a", "b"])', async () => {
    const cache = newCache(connect());
    const keys: CacheFullKey[] = [
      [[], "k"],
      [[""], "k"],
      [["a,b"], "k"],
      [["a", "b"], "k"],
    ];
    await cache.set(keys.map((key, i) => ({ key, value: i })));
    expect(await cache.get(keys)).toEqual(keys.map((key, i) => ({ key, value: i })));
    await cache.clear([[""], ["a,b"]]);
    expect(await cache.get(keys)).toEqual([
      { key: keys[0], value: 0 },
      { key: keys[3], value: 3 },
    ]);
  });

  it("writes a TTL in seconds as a server-side expiry and stops serving the entry once it passes", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1 });
    const ns = ["ttl"];
    await cache.set([
      { key: [ns, "short"], value: 1, ttl: 0.2 },
      { key: [ns, "long"], value: 2, ttl: 3600 },
    ]);
    const keys = cacheBucketKeys(cache.keyPrefix, ns, 0);
    const longScore = Number(await client.zscore(keys.expiry, "long"));
    const shortScore = Number(await client.zscore(keys.expiry, "short"));
    expect(longScore - shortScore).toBeGreaterThan(3_599_000);
    expect(longScore - shortScore).toBeLessThan(3_601_000);
    // Every entry has a TTL, so the bucket keys expire with the last one.
    const pttl = await client.pttl(keys.entries);
    expect(pttl).toBeGreaterThan(3_500_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    expect(await client.pttl(keys.expiry)).toBeGreaterThan(3_500_000);

    await waitFor(async () => (await cache.get([[ns, "short"]])).length === 0, "the short entry to expire");
    expect(
      await cache.get([
        [ns, "short"],
        [ns, "long"],
      ]),
    ).toEqual([{ key: [ns, "long"], value: 2 }]);

    // An entry without a TTL makes the bucket persistent.
    await cache.set([{ key: [ns, "forever"], value: 3 }]);
    expect(await client.pttl(keys.entries)).toBe(-1);
    expect(await client.pttl(keys.expiry)).toBe(-1);
    expect(await client.zscore(keys.expiry, "forever")).toBeNull();
    // The write pruned the expired entry on the way.
    expect((await client.hkeys(keys.entries)).sort()).toEqual(["forever", "long"]);
    expect(await client.zrange(keys.expiry, "0", "-1")).toEqual(["long"]);
  });

  it("treats a TTL of zero or less as already passed, Infinity as none, and applies defaultTtlMs", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1, defaultTtlMs: 90_000 });
    const ns = ["edge"];
    const keys = cacheBucketKeys(cache.keyPrefix, ns, 0);
    await cache.set([{ key: [ns, "a"], value: "first" }]);
    expect(await cache.get([[ns, "a"]])).toEqual([{ key: [ns, "a"], value: "first" }]);
    const score = Number(await client.zscore(keys.expiry, "a"));
    const [seconds, micros] = (await client.time()) as [number, number];
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    expect(score - nowMs).toBeGreaterThan(60_000);
    expect(score - nowMs).toBeLessThanOrEqual(90_000);

    // A TTL that has already passed replaces the entry with nothing, as InMemoryCache does.
    const memory = new InMemoryCache();
    for (const c of [cache, memory]) {
      await c.set([{ key: [ns, "a"], value: "first" }]);
      await c.set([{ key: [ns, "a"], value: "second", ttl: 0 }]);
      await c.set([{ key: [ns, "b"], value: "negative", ttl: -5 }]);
    }
    expect(
      await cache.get([
        [ns, "a"],
        [ns, "b"],
      ]),
    ).toEqual(
      await memory.get([
        [ns, "a"],
        [ns, "b"],
      ]),
    );
    expect(await client.hexists(keys.entries, "a")).toBe(0);

    await cache.set([{ key: [ns, "inf"], value: 1, ttl: Number.POSITIVE_INFINITY }]);
    expect(await client.zscore(keys.expiry, "inf")).toBeNull();
    expect(await client.pttl(keys.entries)).toBe(-1);
  });

  it("prunes expired entries on later writes, a bounded number per call", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1 });
    const ns = ["prune"];
    const keys = cacheBucketKeys(cache.keyPrefix, ns, 0);
    // One entry without a TTL keeps the bucket alive (a bucket whose entries all expire goes as a whole).
    await cache.set([{ key: [ns, "kept"], value: "k" }]);
    await cache.set(
      Array.from({ length: 150 }, (_, i) => ({ key: [ns, `old${i}`] as CacheFullKey, value: i, ttl: 0.05 })),
    );
    await waitFor(async () => (await cache.get([[ns, "old0"]])).length === 0, "the entries to expire");
    await cache.set([{ key: [ns, "new"], value: "x" }]);
    // 100 pruned by this call, the rest by the next.
    expect(await client.hlen(keys.entries)).toBe(52);
    await cache.set([{ key: [ns, "new2"], value: "y" }]);
    expect((await client.hkeys(keys.entries)).sort()).toEqual(["kept", "new", "new2"]);
    expect(await client.zcard(keys.expiry)).toBe(0);
  });

  it("lets a bucket whose entries all have a TTL expire as a whole", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1 });
    const keys = cacheBucketKeys(cache.keyPrefix, ["whole"], 0);
    await cache.set([{ key: [["whole"], "a"], value: 1, ttl: 0.05 }]);
    await waitFor(async () => (await client.exists(keys.entries, keys.expiry)) === 0, "the bucket keys to expire");
    expect(await cache.get([[["whole"], "a"]])).toEqual([]);
  });

  it("spreads one namespace over its buckets (several slots) and reads them back in key order", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 16 });
    const ns = ["__pregel_ns_writes", "busy", "busy"];
    const pairs = Array.from({ length: 64 }, (_, i) => ({ key: [ns, `key-${i}`] as CacheFullKey, value: { i } }));
    await cache.set(pairs);
    const used = new Set(pairs.map((p) => bucketOf(p.key[1], 16)));
    expect(used.size).toBeGreaterThan(8);
    const slots = new Set([...used].map((b) => keySlot(cacheBucketKeys(cache.keyPrefix, ns, b).entries)));
    expect(slots.size).toBe(used.size);
    const reversed = [...pairs].reverse().map((p) => p.key);
    expect(await cache.get(reversed)).toEqual([...pairs].reverse());
    await cache.clear([ns]);
    expect(await cache.get(reversed)).toEqual([]);
    for (let b = 0; b < 16; b++) {
      const keys = cacheBucketKeys(cache.keyPrefix, ns, b);
      expect(await client.exists(keys.entries, keys.expiry)).toBe(0);
    }
  });

  it("clears one namespace exactly, and clear([]) clears what every instance on the prefix registered", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cache");
    const one = new RedisCache({ client, keyPrefix, buckets: 2 });
    const two = new RedisCache({ client: connect(), keyPrefix, buckets: 2 });
    const other = new RedisCache({ client, keyPrefix: testPrefix("cache"), buckets: 2 });
    const parent: CacheFullKey = [["a"], "k"];
    const child: CacheFullKey = [["a", "b"], "k"];
    const sibling: CacheFullKey = [["c"], "k"];
    await one.set([
      { key: parent, value: 1 },
      { key: child, value: 2 },
    ]);
    await two.set([{ key: sibling, value: 3 }]);
    await other.set([{ key: parent, value: "other prefix" }]);

    await one.clear([["a"]]);
    expect(await one.get([parent, child, sibling])).toEqual([
      { key: child, value: 2 },
      { key: sibling, value: 3 },
    ]);
    expect((await client.zrange(cacheRegistryKey(keyPrefix), "0", "-1")).sort()).toEqual(
      [["a"], ["a", "b"], ["c"]].map(cacheNamespaceMember).sort(),
    );

    await one.clear([]);
    expect(await two.get([parent, child, sibling])).toEqual([]);
    expect(await other.get([parent])).toEqual([{ key: parent, value: "other prefix" }]);
    // The registry keeps its members, so instances need not register again; new writes are cleared next time.
    await two.set([{ key: sibling, value: 4 }]);
    await one.clear([]);
    expect(await two.get([sibling])).toEqual([]);
  });

  it("clear([]) walks a registry larger than one page", async () => {
    const cache = newCache(connect(), { buckets: 1 });
    const count = REGISTRY_PAGE + 20;
    const pairs = Array.from({ length: count }, (_, i) => ({ key: [[`ns${i}`], "k"] as CacheFullKey, value: i }));
    await cache.set(pairs);
    expect(await cache.get(pairs.map((p) => p.key))).toHaveLength(count);
    await cache.clear([]);
    expect(await cache.get(pairs.map((p) => p.key))).toEqual([]);
  });

  it("refuses bad input with named errors and writes nothing", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1, maxValueBytes: 1024 });
    const ns = ["bad"];
    const bad = cache as unknown as {
      get(keys: unknown): Promise<unknown>;
      set(pairs: unknown): Promise<unknown>;
      clear(namespaces: unknown): Promise<unknown>;
    };
    await expect(bad.get([["not-an-array", "k"]])).rejects.toThrow(InvalidInputError);
    await expect(bad.get([[ns, 42]])).rejects.toThrow(InvalidInputError);
    await expect(bad.set([{ key: [[1], "k"], value: 1 }])).rejects.toThrow(InvalidInputError);
    await expect(bad.clear("everything")).rejects.toThrow(InvalidInputError);
    await expect(bad.clear([[null]])).rejects.toThrow(InvalidInputError);
    await expect(
      cache.set([
        { key: [ns, "ok"], value: 1 },
        { key: [ns, "nan"], value: 1, ttl: Number.NaN },
      ]),
    ).rejects.toThrow(/ttl must be a number/);
    const big = cache.set([
      { key: [ns, "small"], value: "x" },
      { key: [ns, "big"], value: "x".repeat(2048) },
    ]);
    await expect(big).rejects.toThrow(ValueTooLargeError);
    expect(await client.exists(cacheBucketKeys(cache.keyPrefix, ns, 0).entries)).toBe(0);
    expect(await client.exists(cacheRegistryKey(cache.keyPrefix))).toBe(0);

    expect(() => new RedisCache({ client, buckets: 0 })).toThrow(InvalidOptionError);
    expect(() => new RedisCache({ client, defaultTtlMs: -1 })).toThrow(/RedisCache.defaultTtlMs/);
    expect(() => new RedisCache({ client, keyPrefix: "a{b}" })).toThrow(InvalidOptionError);
    expect(() => new RedisCache({ client, unknown: 1 } as unknown as RedisCacheOptions)).toThrow(InvalidOptionError);
  });

  it("names the key when an entry holds bytes it did not write or a key holds another type", async () => {
    const client = connect();
    const cache = newCache(client, { buckets: 1 });
    const ns = ["corrupt"];
    const keys = cacheBucketKeys(cache.keyPrefix, ns, 0);
    await client.hset(keys.entries, "no-type-line", ":garbage without a newline");
    await client.hset(keys.entries, "bad-json", ":json\n{not json");
    for (const key of ["no-type-line", "bad-json"]) {
      const error = await cache.get([[ns, key]]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).key).toBe(keys.entries);
    }
    await client.del(keys.entries);
    await client.set(keys.entries, "a string");
    const error = await cache.get([[ns, "k"]]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as CorruptDataError).key).toBe(keys.entries);
  });

  it("tells a reader without EncryptedSerializer that an entry is encrypted, and with which key id", async () => {
    const client = connect();
    const keyPrefix = testPrefix("cache");
    const serde = new EncryptedSerializer({ keys: { k1: Buffer.alloc(32, 1) }, currentKeyId: "k1" });
    await new RedisCache({ client, keyPrefix, serde }).set([{ key: [["ns"], "k"], value: { secret: 1 } }]);
    const error = await new RedisCache({ client, keyPrefix }).get([[["ns"], "k"]]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect(String(error)).toMatch(/is encrypted \(type "json\+aes256gcm", key id "k1"\) and this reader has no/);
  });
});
