import { type BaseStore, InMemoryStore } from "@langchain/langgraph-checkpoint";
import {
  CorruptDataError,
  InvalidInputError,
  InvalidOptionError,
  RedisStore,
  ValueTooLargeError,
} from "../../src/index.js";
import { storeItemKeys, storeNamespaceKeys } from "../../src/keys.js";
import { newRedis, targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

async function errorOf(run: () => Promise<unknown>): Promise<{ name: string; message: string } | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return { name: (error as Error).constructor.name, message: (error as Error).message };
  }
}

const badNamespaces: unknown[][] = [[], [""], ["a", ""], ["a.b"], ["a:b"], ["nul\u0000"], [42], ["langgraph"]];

describe.each(targets)("store errors on $name", ({ connect }) => {
  it("bad namespaces throw what InMemoryStore throws, from every method", async () => {
    const store = newStore(connect());
    const reference = new InMemoryStore();
    for (const ns of badNamespaces as string[][]) {
      const calls: ((s: BaseStore) => Promise<unknown>)[] = [
        (s) => s.put(ns, "k", { a: 1 }),
        (s) => s.get(ns, "k"),
        (s) => s.delete(ns, "k"),
        (s) => s.search(ns),
        (s) => s.listNamespaces({ prefix: ns }),
        (s) => s.batch([{ namespace: ns, key: "k", value: { a: 1 } }]),
        (s) => s.batch([{ namespace: ns, key: "k" }]),
      ];
      for (const call of calls) {
        expect(await errorOf(() => call(store)), JSON.stringify(ns)).toEqual(await errorOf(() => call(reference)));
      }
    }
    // Only what InMemoryStore also accepts was written (batch() allows the reserved root, as it does there).
    expect(await store.listNamespaces()).toEqual(await reference.listNamespaces());
    expect(await store.listNamespaces()).toEqual([["langgraph"]]);
  });

  it("a bad operation anywhere in a batch writes nothing", async () => {
    const store = newStore(connect());
    await expect(
      store.batch([
        { namespace: ["ok"], key: "k", value: { a: 1 } },
        { namespace: ["bad.label"], key: "k", value: { a: 1 } },
      ]),
    ).rejects.toThrow(/cannot contain periods/);
    expect(await store.get(["ok"], "k")).toBeNull();
  });

  it("refuses values that are not JSON objects", async () => {
    const store = newStore(connect());
    for (const value of ["text", 42, [1, 2], true]) {
      await expect(store.put(["ns"], "k", value as never)).rejects.toThrow(InvalidInputError);
    }
    await expect(store.put(["ns"], "k", { amount: { cents: 1999n } } as never)).rejects.toThrow(
      "a bigint at value.amount.cents",
    );
    expect(await store.get(["ns"], "k")).toBeNull();
  });

  it("refuses -0 and symbol-keyed properties, which JSON would change, as docs/store.md says", async () => {
    const store = newStore(connect());
    await expect(store.put(["ns"], "k", { balance: -0 })).rejects.toThrow(InvalidInputError);
    await expect(store.put(["ns"], "k", { list: [1, -0] })).rejects.toThrow("-0 at value.list[1]");
    await expect(store.put(["ns"], "k", { a: { [Symbol("tag")]: 1 } })).rejects.toThrow(
      "a symbol-keyed property Symbol(tag) at value.a",
    );
    await expect(store.putIfVersion(["ns"], "k", { n: -0 }, null)).rejects.toThrow(InvalidInputError);
    expect(await store.get(["ns"], "k")).toBeNull();
    // 0 itself, and a value equal to what JSON gives back, are fine
    await store.put(["ns"], "k", { balance: 0, list: [1, 0] });
    expect((await store.get(["ns"], "k"))?.value).toEqual({ balance: 0, list: [1, 0] });
  });

  it("refuses values over maxValueBytes before writing anything", async () => {
    const store = newStore(connect(), { maxValueBytes: 100 });
    const error = await store
      .batch([
        { namespace: ["ns"], key: "small", value: { a: 1 } },
        { namespace: ["ns"], key: "big", value: { text: "é".repeat(60) } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect((error as ValueTooLargeError).bytes).toBeGreaterThan(100);
    expect(await store.get(["ns"], "small")).toBeNull();
    await store.put(["ns"], "ok", { text: "x".repeat(50) });
  });

  it("names the key when stored bytes cannot be decoded", async () => {
    const client = connect();
    const keyPrefix = testPrefix("bad");
    const store = newStore(client, { keyPrefix });
    await store.put(["ns"], "good", { a: 1 });
    await store.put(["ns"], "bad", { a: 1 });
    const itemsKey = storeNamespaceKeys(keyPrefix, ["ns"]).items;
    await client.hset(itemsKey, "bad", "1:2:3:::\n{not json");
    const getError = await store.get(["ns"], "bad").catch((e: unknown) => e);
    expect(getError).toBeInstanceOf(CorruptDataError);
    expect((getError as CorruptDataError).key).toBe(itemsKey);
    expect((getError as Error).message).toContain('"bad"');
    await expect(store.search(["ns"])).rejects.toThrow(CorruptDataError);
    expect((await store.get(["ns"], "good"))?.value).toEqual({ a: 1 });

    await client.hset(itemsKey, "bad", "garbage without a header");
    await expect(store.put(["ns"], "bad", { a: 2 })).rejects.toThrow(CorruptDataError);
    await expect(store.get(["ns"], "bad")).rejects.toThrow(CorruptDataError);

    const historyKey = storeItemKeys(keyPrefix, ["ns"], "good").history;
    await client.zadd(historyKey, 99, "nonsense");
    const historyError = await store.history(["ns"], "good").catch((e: unknown) => e);
    expect(historyError).toBeInstanceOf(CorruptDataError);
    expect((historyError as CorruptDataError).key).toBe(historyKey);
  });
});

describe("store options", () => {
  it("name the option, echo the value and say what is allowed", () => {
    const client = newRedis();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ keyPrefix: "a{b}" }, /RedisStore\.keyPrefix/],
      [{ historyLimit: 0 }, /RedisStore\.historyLimit.*received 0/],
      [{ ttl: { defaultTtlMs: -5 } }, /RedisStore\.ttl\.defaultTtlMs.*received -5/],
      [{ maxValueBytes: 1.5 }, /RedisStore\.maxValueBytes/],
      [{ index: { dims: 4 } }, /RedisStore\.index\.embeddings/],
      [{ unknown: 1 }, /RedisStore/],
    ];
    for (const [options, message] of cases) {
      expect(() => new RedisStore({ client, ...options })).toThrow(InvalidOptionError);
      expect(() => new RedisStore({ client, ...options })).toThrow(message);
    }
    expect(() => new RedisStore({ client: {} as never })).toThrow(/RedisStore\.client/);
  });

  it("check per-write options", async () => {
    const store = newStore(newRedis());
    await expect(store.put(["ns"], "k", { a: 1 }, { ttlMs: 0 })).rejects.toThrow(/write options\.ttlMs/);
    await expect(store.put(["ns"], "k", { a: 1 }, { fence: { lockKey: "", token: 1 } })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(store.putIfVersion(["ns"], "k", { a: 1 }, -1)).rejects.toThrow(InvalidInputError);
    await expect(store.update(["ns"], "k", () => ({}), { maxAttempts: 0 })).rejects.toThrow(InvalidInputError);
    expect(await store.get(["ns"], "k")).toBeNull();
  });
});
