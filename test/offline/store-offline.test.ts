/**
 * RedisStore with the `offline` option, through a proxy the test cuts: puts and deletes go to the journal, gets
 * answer locally, the replay writes them with compare-and-set on the version this process knew; a write another
 * client made meanwhile is a reported conflict with both values in the item's history; replaying twice changes
 * nothing.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import {
  InvalidOptionError,
  type OfflineConflict,
  OfflineReadError,
  RedisConnectionError,
  RedisStore,
} from "../../src/index.js";
import { newRedis, testPrefix } from "../helpers/redis.js";
import { nextOnline, offlineFixtures, quickOffline } from "./offline-fixtures.js";

const { cleanup, journalDir, proxied } = offlineFixtures();

function offlineStore(client: Redis, keyPrefix: string, dir: string): RedisStore {
  const store = new RedisStore({
    client,
    keyPrefix,
    offline: quickOffline(dir),
  });
  cleanup.push(() => store.close());
  return store;
}

const ns = ["orders", "customer-1"];

describe("RedisStore offline", () => {
  it("journals puts and deletes while Redis is unreachable, answers gets locally, replays them in order", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("soff");
    const store = offlineStore(client, prefix, journalDir("store-offline"));
    const direct = new RedisStore({ client: newRedis(), keyPrefix: prefix });
    await store.put(ns, "a", { status: "new" });
    await store.put(ns, "gone", { status: "old" });
    await proxy.cut();
    await store.put(ns, "a", { status: "paid" });
    await store.put(ns, "a", { status: "shipped" });
    await store.delete(ns, "gone");
    await store.put(ns, "b", { status: "new" });
    expect(store.offlineState).toBe("offline");
    expect(store.offlinePendingRecords).toBe(4);
    expect((await store.get(ns, "a"))?.value).toEqual({ status: "shipped" });
    expect(await store.get(ns, "gone")).toBeNull();
    await expect(store.get(ns, "never-seen")).rejects.toBeInstanceOf(OfflineReadError);
    await expect(store.search(ns)).rejects.toBeInstanceOf(OfflineReadError);
    // a compare-and-set cannot be decided offline
    await expect(store.putIfVersion(ns, "a", { status: "x" }, 1)).rejects.toBeInstanceOf(RedisConnectionError);

    const online = nextOnline(store);
    await proxy.restore();
    const result = await online;
    expect(result).toMatchObject({ applied: 4, forked: 0, conflicts: [], rejected: [] });
    expect(await direct.getWithVersion(ns, "a")).toMatchObject({ value: { status: "shipped" }, version: 3 });
    expect(await direct.get(ns, "gone")).toBeNull();
    expect((await direct.get(ns, "b"))?.value).toEqual({ status: "new" });
    expect((await direct.history(ns, "a")).map((entry) => entry.value)).toEqual([
      { status: "shipped" },
      { status: "paid" },
      { status: "new" },
    ]);
  });

  it("answers gets offline with the values as stored, not with objects changed in place since", async () => {
    const { proxy, client } = await proxied();
    const store = offlineStore(client, testPrefix("soff"), journalDir("store-offline"));
    const order = { status: "new", items: ["a"] };
    await store.put(ns, "order", order);
    order.items.push("b");
    const read = await store.get(ns, "read");
    expect(read).toBeNull();
    await store.put(ns, "read", { n: 1 });
    const readBack = (await store.get(ns, "read"))?.value as { n: number };
    readBack.n = 2;
    await proxy.cut();
    const offlineValue = { status: "paid", items: ["c"] };
    await store.put(ns, "later", offlineValue);
    offlineValue.items.push("d");
    expect(store.offlineState).toBe("offline");
    expect((await store.get(ns, "order"))?.value).toEqual({ status: "new", items: ["a"] });
    expect((await store.get(ns, "read"))?.value).toEqual({ n: 1 });
    const later = (await store.get(ns, "later"))?.value as { items: string[] };
    expect(later).toEqual({ status: "paid", items: ["c"] });
    later.items.length = 0;
    expect((await store.get(ns, "later"))?.value).toEqual({ status: "paid", items: ["c"] });
  });

  it("reports a write another client made meanwhile as a conflict, both values in the history", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("soff");
    const store = offlineStore(client, prefix, journalDir("store-offline"));
    const other = new RedisStore({ client: newRedis(), keyPrefix: prefix });
    const conflicts: OfflineConflict[] = [];
    store.on("conflict", (conflict) => conflicts.push(conflict));
    await store.put(ns, "order", { status: "new" });
    await proxy.cut();
    await store.put(ns, "order", { status: "refunded", by: "offline agent" });
    await other.put(ns, "order", { status: "paid", by: "other agent" });

    const online = nextOnline(store);
    await proxy.restore();
    const result = await online;
    expect(result.forked).toBe(1);
    expect(result.conflicts).toEqual([
      {
        kind: "item",
        namespace: ns,
        key: "order",
        reason: "version",
        expectedVersion: 1,
        remoteVersion: 2,
        storedVersion: 3,
      },
    ]);
    expect(conflicts).toEqual(result.conflicts);
    const history = await other.history(ns, "order");
    expect(history.map((entry) => [entry.version, entry.value])).toEqual([
      [3, { status: "refunded", by: "offline agent" }],
      [2, { status: "paid", by: "other agent" }],
      [1, { status: "new" }],
    ]);
  });

  it("replays idempotently: the same journal applied again changes nothing", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix("soff");
    const dir = journalDir("store-offline");
    const store = offlineStore(client, prefix, dir);
    await store.put(ns, "x", { n: 0 });
    await proxy.cut();
    for (let n = 1; n <= 3; n++) await store.put(ns, "x", { n });
    await store.put(ns, "y", { n: 9 });
    const copy = journalDir("store-offline");
    copyFileSync(join(dir, "store.journal"), join(copy, "store.journal"));
    const online = nextOnline(store);
    await proxy.restore();
    expect((await online).applied).toBe(4);
    const direct = new RedisStore({ client: newRedis(), keyPrefix: prefix });
    const before = [await direct.history(ns, "x"), await direct.history(ns, "y")];
    expect(before[0]?.map((entry) => entry.version)).toEqual([4, 3, 2, 1]);

    const again = offlineStore(newRedis(), prefix, copy);
    const second = await again.replayOffline();
    expect(second).toMatchObject({ applied: 4, forked: 0, conflicts: [] });
    expect([await direct.history(ns, "x"), await direct.history(ns, "y")]).toEqual(before);
  });

  it("refuses the offline option together with encryption", () => {
    expect(
      () =>
        new RedisStore({
          client: newRedis(),
          offline: { journalDir: "/x" },
          encryption: { keys: { k1: Buffer.alloc(32).toString("base64") }, currentKeyId: "k1" },
        }),
    ).toThrow(InvalidOptionError);
  });
});
