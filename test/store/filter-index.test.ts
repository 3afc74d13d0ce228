/**
 * Filter indexes (the `filterIndex` option): a differential property test against InMemoryStore over random data
 * (including values that coerce: numbers as strings, null, booleans in a number field) and random filters on
 * declared and undeclared fields, plus what the indexes hold after writes, deletes and expiries, and the reindex walk.
 */
import type { Operation } from "@langchain/langgraph-checkpoint";
import fc from "fast-check";
import { InvalidInputError, InvalidOptionError } from "../../src/index.js";
import { storeFieldIndexKey, storeNamespaceKeys } from "../../src/keys.js";
import { scriptCall } from "../../src/lua/index.js";
import { runRouted } from "../../src/routing.js";
import { createContext } from "../../src/store/context.js";
import { redisStoreOptionsSchema } from "../../src/store/options.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";
import { normalize, referenceStore } from "./reference.js";

const filterIndex = { fields: { n: "number", s: "string", flag: "boolean" } } as const;

const label = fc.constantFrom("a", "b");
const namespace = fc.array(label, { minLength: 1, maxLength: 2 });
const key = fc.constantFrom("k1", "k2", "k3", "k4", "k5", "with:colon{tag}");
const nValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(1.5, "3", "x", "", null, true, false, [4], [], { a: 1 }) },
);
const sValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("x", "y", "z") },
  { weight: 1, arbitrary: fc.constantFrom(1, true, null, "") },
);
const value = fc.record(
  { n: nValue, s: sValue, flag: fc.oneof(fc.boolean(), fc.constant("true")), u: fc.constantFrom("p", "q") },
  { requiredKeys: [] },
);
const number = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom(1.5, "3", "x", null));
const nCondition = fc.oneof(
  fc.integer({ min: -2, max: 5 }),
  fc.constantFrom("3", null, true),
  fc.record({ $gt: number }, { requiredKeys: [] }),
  fc.record({ $gte: number, $lte: number }, { requiredKeys: [] }),
  fc.record({ $gt: number, $lt: number, $ne: number }, { requiredKeys: [] }),
  fc.record({ $eq: number }),
  fc.record({ $in: fc.array(number, { maxLength: 3 }) }),
);
const sCondition = fc.oneof(
  fc.constantFrom("x", "y", "w", 1, true, null),
  fc.record({ $eq: fc.constantFrom("x", "y", 1) }),
  fc.record({ $ne: fc.constantFrom("x", "y") }),
  fc.record({ $eq: fc.constantFrom("x", "y"), $ne: fc.constantFrom("x", "z") }),
  fc.record({ $gt: fc.constantFrom("x", 0) }),
);
const nRange = fc.oneof(
  fc.record({ $gt: number }),
  fc.record({ $gte: number }),
  fc.record({ $lt: number, $gte: number }),
  fc.record({ $lte: number, $gt: number }),
);
const filter = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.record({ n: nRange }) },
  {
    weight: 6,
    arbitrary: fc.record(
      {
        n: nCondition,
        s: sCondition,
        flag: fc.oneof(fc.boolean(), fc.record({ $eq: fc.boolean() }), fc.constant("true")),
        u: fc.constantFrom("p", "q"),
      },
      { requiredKeys: [] },
    ),
  },
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ namespace, key, value }) },
  { weight: 1, arbitrary: fc.record({ namespace, key, value: fc.constant(null) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      namespacePrefix: fc.array(label, { maxLength: 1 }),
      filter,
      limit: fc.integer({ min: 0, max: 6 }),
      offset: fc.integer({ min: 0, max: 4 }),
    }),
  },
);
const batches = fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 10 });

describe.each(targets)("filter indexes on $name", ({ connect }) => {
  it("search returns what InMemoryStore returns, in the same order, for random data and filters", async () => {
    const client = connect();
    await fc.assert(
      fc.asyncProperty(batches, async (sequence) => {
        const store = newStore(client, { filterIndex });
        const reference = referenceStore();
        for (const ops of sequence) {
          expect(normalize(await store.batch(ops))).toEqual(normalize(await reference.batch(ops)));
        }
        expect(normalize(await store.search([], { limit: 100 }))).toEqual(
          normalize(await reference.search([], { limit: 100 })),
        );
      }),
      { numRuns: 120 },
    );
  });

  it("keeps each declared field's sorted set current through writes, deletes and expiry", async () => {
    const client = connect();
    const keyPrefix = testPrefix("fx");
    const store = newStore(client, { keyPrefix, filterIndex });
    const nKey = storeFieldIndexKey(keyPrefix, ["t"], "n");
    const sKey = storeFieldIndexKey(keyPrefix, ["t"], "s");
    await store.put(["t"], "a", { n: 3, s: "x" });
    await store.put(["t"], "b", { n: "7", s: 1 });
    await store.put(["t"], "c", { n: "x", s: { no: 1 } });
    expect(await client.zrange(nKey, "0", "-1", "WITHSCORES")).toEqual(["a", "3", "b", "7"]);
    expect(await client.zcard(sKey)).toBe(2);
    await store.put(["t"], "a", { s: "y" }); // n gone: out of the n index; s changed
    expect(await client.zrange(nKey, "0", "-1")).toEqual(["b"]);
    const scores = await client.zmscore(sKey, "a", "b");
    expect(scores[0]).not.toBeNull();
    expect(scores[0]).not.toBe(scores[1]);
    await store.delete(["t"], "b");
    expect(await client.zrange(nKey, "0", "-1")).toEqual([]);
    expect(await client.zrange(sKey, "0", "-1")).toEqual(["a"]);
    // An expired item leaves the indexes with it; an empty namespace deletes them.
    await store.put(["t"], "e", { n: 1 }, { ttlMs: 30 });
    expect(await client.zscore(nKey, "e")).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await store.get(["t"], "e")).toBeNull();
    expect(await client.zscore(nKey, "e")).toBeNull();
    await store.delete(["t"], "a");
    await store.delete(["t"], "c");
    expect(await client.exists(nKey, sKey)).toBe(0);
  });

  it("index keys expire with a namespace of TTL'd items; a sweep or a search removes expired items' entries", async () => {
    const client = connect();
    const keyPrefix = testPrefix("fxttl");
    const store = newStore(client, { keyPrefix, filterIndex, ttl: { defaultTtlMs: 60_000 } });
    const nKey = storeFieldIndexKey(keyPrefix, ["ttl"], "n");
    await store.put(["ttl"], "a", { n: 1 });
    const pttl = await client.pttl(nKey);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    await store.put(["ttl"], "kept", { n: 2 }, { ttlMs: null });
    expect(await client.pttl(nKey)).toBe(-1);
    await store.put(["ttl"], "short1", { n: 3 }, { ttlMs: 20 });
    await store.put(["ttl"], "short2", { n: 4 }, { ttlMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await store.search(["ttl"], { filter: { n: { $gte: 2 } } })).map((item) => item.key)).toEqual(["kept"]);
    expect(await client.zrange(nKey, "0", "-1")).toEqual(["a", "kept"]);
  });

  it("a reindex step leaves alone an item written since it was read", async () => {
    const client = connect();
    const keyPrefix = testPrefix("fxrace");
    const store = newStore(client, { keyPrefix, filterIndex });
    await store.put(["r"], "k", { n: 1 });
    const ctx = createContext(redisStoreOptionsSchema.parse({ client, keyPrefix, filterIndex }));
    const items = storeNamespaceKeys(keyPrefix, ["r"]).items;
    const fieldIndexes = ["n", "s", "flag"].map((field) => storeFieldIndexKey(keyPrefix, ["r"], field));
    // Scores computed from version 1 of the item, which is at version 2 by now.
    await store.put(["r"], "k", { n: 2 });
    const [stale] = await runRouted(ctx, [
      scriptCall("storeReindex", { items, fieldIndexes }, ["k", 1, "1,,", fieldIndexes.length]),
    ]);
    expect(stale).toBe(0);
    expect(await client.zscore(fieldIndexes[0] as string, "k")).toBe("2");
    const [current] = await runRouted(ctx, [
      scriptCall("storeReindex", { items, fieldIndexes }, ["k", 2, "7,,", fieldIndexes.length]),
    ]);
    expect(current).toBe(1);
    expect(await client.zscore(fieldIndexes[0] as string, "k")).toBe("7");
  });

  it("pages a search without a filter from the order index: each page reads only its items", async () => {
    const client = connect();
    const store = newStore(client, { filterIndex });
    const ops: Operation[] = [];
    for (let i = 0; i < 300; i++)
      ops.push({ namespace: ["p"], key: `i${i}`, value: { n: i, s: i % 2 ? "odd" : "even" } });
    await store.batch(ops);
    const page = await store.search(["p"], { offset: 250, limit: 5 });
    expect(page.map((item) => item.key)).toEqual(["i250", "i251", "i252", "i253", "i254"]);
    const ranged = await store.search(["p"], { filter: { n: { $gte: 100, $lt: 200 } }, offset: 95, limit: 10 });
    expect(ranged.map((item) => item.key)).toEqual(["i195", "i196", "i197", "i198", "i199"]);
    const combined = await store.search(["p"], { filter: { n: { $lt: 10 }, s: "odd" }, limit: 10 });
    expect(combined.map((item) => item.key)).toEqual(["i1", "i3", "i5", "i7", "i9"]);
  });

  it("pages across namespaces exactly as InMemoryStore, for every offset and limit", async () => {
    const client = connect();
    const store = newStore(client, { filterIndex });
    const reference = referenceStore();
    const writes: Operation[] = [];
    for (const [label, count] of [
      ["a", 3],
      ["b", 10],
      ["c", 5],
    ] as const) {
      for (let i = 0; i < count; i++) writes.push({ namespace: ["m", label], key: `${label}${i}`, value: { n: i } });
    }
    await store.batch(writes);
    await reference.batch(writes);
    for (const filter of [undefined, { n: { $gte: 1 } }, { n: 2 }, { n: { $lt: 4 }, s: { $ne: "x" } }]) {
      const searches: Operation[] = [];
      for (let offset = 0; offset <= 19; offset++) {
        for (let limit = 0; limit <= 8; limit++) searches.push({ namespacePrefix: ["m"], filter, offset, limit });
      }
      expect(normalize(await store.batch(searches))).toEqual(normalize(await reference.batch(searches)));
    }
  });

  it("reindexes items written before their fields were declared, in bounded steps", async () => {
    const client = connect();
    const keyPrefix = testPrefix("rx");
    const before = newStore(client, { keyPrefix });
    const writes: Operation[] = [];
    for (let i = 0; i < 23; i++)
      writes.push({ namespace: ["old", i % 2 ? "odd" : "even"], key: `k${i}`, value: { n: i } });
    writes.push({ namespace: ["other"], key: "x", value: { n: 5 } });
    await before.batch(writes);
    const store = newStore(client, { keyPrefix, filterIndex });
    // Not indexed yet: an indexed filter finds nothing.
    expect(await store.search(["old"], { filter: { n: { $gte: 0 } } })).toEqual([]);
    await expect(before.reindex()).rejects.toThrow(/declares no filterIndex fields/);
    await expect(store.reindex({ cursor: "nonsense" })).rejects.toThrow(InvalidInputError);

    let cursor: string | null = null;
    let steps = 0;
    let indexed = 0;
    do {
      const step = await store.reindex({ cursor, maxItems: 5, namespacePrefix: ["old"] });
      expect(step.indexed).toBeLessThanOrEqual(5);
      indexed += step.indexed;
      cursor = step.cursor;
      steps++;
    } while (cursor !== null && steps < 50);
    expect(cursor).toBeNull();
    expect(indexed).toBe(23);
    expect(steps).toBeGreaterThanOrEqual(6); // 12 + 11 items, 5 at a time
    const found = await store.search(["old"], { filter: { n: { $gte: 10, $lt: 14 } } });
    expect(found.map((item) => item.key)).toEqual(["k10", "k12", "k11", "k13"]);
    // Outside the prefix: untouched.
    expect(await store.search(["other"], { filter: { n: 5 } })).toEqual([]);
  });

  it("refuses a bad filterIndex option, naming it", () => {
    const client = connect();
    expect(() => newStore(client, { filterIndex: { fields: { n: "date" as never } } })).toThrow(InvalidOptionError);
    expect(() => newStore(client, { filterIndex: { fields: {} } })).toThrow(/filterIndex/);
    expect(() => newStore(client, { filterIndex: { fields: { n: "number" }, extra: 1 } as never })).toThrow(
      InvalidOptionError,
    );
  });
});
