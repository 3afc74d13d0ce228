import { VersionConflictError } from "../../src/index.js";
import { storeItemKeys } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

describe.each(targets)("version history on $name", ({ connect }) => {
  it("gives every write a version one higher, records writer and time, newest first", async () => {
    const store = newStore(connect(), { agentId: "planner" });
    const before = Date.now() - 5000;
    await store.put(["orders"], "42", { status: "new" });
    await store.put(["orders"], "42", { status: "paid" }, { writer: "payment-agent" });
    await store.delete(["orders"], "42", { writer: "fraud-agent" });
    await store.put(["orders"], "42", { status: "reopened" });
    const history = await store.history(["orders"], "42");
    expect(history.map((h) => [h.version, h.op, h.writer, h.value])).toEqual([
      [4, "put", "planner", { status: "reopened" }],
      [3, "delete", "fraud-agent", null],
      [2, "put", "payment-agent", { status: "paid" }],
      [1, "put", "planner", { status: "new" }],
    ]);
    for (const entry of history) expect(entry.at.getTime()).toBeGreaterThan(before);
    expect((await store.history(["orders"], "42", { limit: 2 })).map((h) => h.version)).toEqual([4, 3]);
    const item = await store.getWithVersion(["orders"], "42");
    expect(item).toMatchObject({ version: 4, updatedBy: "planner", value: { status: "reopened" }, expiresAt: null });
  });

  it("keeps createdAt across updates and moves updatedAt", async () => {
    const store = newStore(connect());
    await store.put(["ns"], "k", { v: 1 });
    const first = await store.get(["ns"], "k");
    await new Promise((r) => setTimeout(r, 5));
    await store.put(["ns"], "k", { v: 2 });
    const second = await store.get(["ns"], "k");
    expect(second?.createdAt).toEqual(first?.createdAt);
    expect(second?.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? 0);
  });

  it("keeps at most historyLimit entries, versions still counting", async () => {
    const client = connect();
    const keyPrefix = testPrefix("hist");
    const store = newStore(client, { keyPrefix, historyLimit: 3 });
    for (let i = 1; i <= 7; i++) await store.put(["ns"], "k", { i });
    expect((await store.history(["ns"], "k")).map((h) => h.version)).toEqual([7, 6, 5]);
    expect(await client.zcard(storeItemKeys(keyPrefix, ["ns"], "k").history)).toBe(3);
    expect((await store.getWithVersion(["ns"], "k"))?.version).toBe(7);
  });

  it("records one write per item when a batch writes it twice (the last wins)", async () => {
    const store = newStore(connect());
    await store.batch([
      { namespace: ["ns"], key: "k", value: { v: 1 } },
      { namespace: ["ns"], key: "k", value: { v: 2 } },
    ]);
    expect((await store.history(["ns"], "k")).map((h) => h.value)).toEqual([{ v: 2 }]);
  });
});

describe.each(targets)("compare-and-set on $name", ({ connect }) => {
  it("putIfVersion writes only at the expected version", async () => {
    const store = newStore(connect());
    expect(await store.putIfVersion(["acct"], "a", { balance: 10 }, null)).toBe(1);
    const conflict = await store.putIfVersion(["acct"], "a", { balance: 99 }, null).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect(conflict).toMatchObject({ namespace: ["acct"], key: "a", expectedVersion: null, actualVersion: 1 });
    expect(await store.putIfVersion(["acct"], "a", { balance: 20 }, 1)).toBe(2);
    await expect(store.putIfVersion(["acct"], "a", { balance: 30 }, 1)).rejects.toMatchObject({
      expectedVersion: 1,
      actualVersion: 2,
    });
    expect((await store.get(["acct"], "a"))?.value).toEqual({ balance: 20 });
    // Conditional delete, then "must not exist" holds again and the version keeps counting.
    expect(await store.putIfVersion(["acct"], "a", null, 2)).toBe(3);
    await expect(store.putIfVersion(["acct"], "a", { balance: 1 }, 3)).rejects.toMatchObject({ actualVersion: null });
    expect(await store.putIfVersion(["acct"], "a", { balance: 1 }, 0)).toBe(4);
    expect((await store.history(["acct"], "a")).length).toBe(4);
  });

  it("update() loses no increment among 20 concurrent writers", async () => {
    const store = newStore(connect(), { historyLimit: 50 });
    await store.put(["counters"], "c", { n: 100 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update(["counters"], "c", (current) => ({ n: Number(current?.n ?? 0) + 1 }), {
          maxAttempts: 200,
          writer: `w${i}`,
        }),
      ),
    );
    expect((await store.get(["counters"], "c"))?.value).toEqual({ n: 120 });
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const history = await store.history(["counters"], "c");
    expect(history.map((h) => h.value?.n)).toEqual(Array.from({ length: 21 }, (_, i) => 120 - i));
    expect(new Set(history.slice(0, 20).map((h) => h.writer)).size).toBe(20);
  });

  it("update() creates, deletes, and gives up after maxAttempts", async () => {
    const store = newStore(connect());
    expect(await store.update(["ns"], "k", (current) => ({ seen: current === null }))).toEqual({
      value: { seen: true },
      version: 1,
    });
    expect(await store.update(["ns"], "k", () => null)).toEqual({ value: null, version: 2 });
    expect(await store.get(["ns"], "k")).toBeNull();
    let calls = 0;
    const error = await store
      .update(
        ["ns"],
        "k",
        async () => {
          calls++;
          await store.put(["ns"], "k", { sneaky: calls }); // someone else writes in between, every time
          return { mine: true };
        },
        { maxAttempts: 3 },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(calls).toBe(3);
  });
});
