/**
 * Fenced writes: a write carrying a guarded() lock's fencing token is refused (FencedWriteError, nothing written)
 * when a newer token has been issued for that lock key. guarded() issues tokens by INCR of fenceCounterKey; these
 * tests issue them the same way.
 */

import { type Fence, FencedWriteError } from "../../src/index.js";
import { fenceCounterKey, storeItemKeys, storeNamespaceKeys } from "../../src/keys.js";
import { keySlot } from "../../src/routing.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

describe.each(targets)("fenced writes on $name", ({ name, connect }) => {
  it("refuse a token older than the newest issued for the lock key", async () => {
    const client = connect();
    const keyPrefix = testPrefix("fence");
    const store = newStore(client, { keyPrefix });
    const counter = fenceCounterKey(keyPrefix, "order:42");
    if (name === "cluster") {
      // The point of the cluster design: the counter and the item live in different slots.
      expect(keySlot(counter)).not.toBe(keySlot(storeNamespaceKeys(keyPrefix, ["orders"]).items));
    }
    const first: Fence = { lockKey: "order:42", token: await client.incr(counter) };
    await store.put(["orders"], "42", { status: "charging" }, { fence: first, writer: "payment" });
    const second: Fence = { lockKey: "order:42", token: await client.incr(counter) }; // another agent took the lock

    const stale = await store
      .put(["orders"], "42", { status: "charged" }, { fence: first, writer: "payment" })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(FencedWriteError);
    expect(stale).toMatchObject({ lockKey: "order:42", token: first.token, newestToken: second.token });
    await expect(store.delete(["orders"], "42", { fence: first })).rejects.toThrow(FencedWriteError);
    await expect(store.putIfVersion(["orders"], "42", { status: "x" }, 1, { fence: first })).rejects.toThrow(
      FencedWriteError,
    );
    await expect(store.update(["orders"], "42", () => ({ status: "y" }), { fence: first })).rejects.toThrow(
      FencedWriteError,
    );
    expect((await store.get(["orders"], "42"))?.value).toEqual({ status: "charging" });

    await store.put(["orders"], "42", { status: "flagged" }, { fence: second, writer: "fraud" });
    await store.update(["orders"], "42", (v) => ({ ...v, reviewed: true }), { fence: second, writer: "fraud" });
    expect((await store.history(["orders"], "42")).map((h) => [h.writer, h.value])).toEqual([
      ["fraud", { status: "flagged", reviewed: true }],
      ["fraud", { status: "flagged" }],
      ["payment", { status: "charging" }],
    ]);
  });

  it("refuse a token older than one already written to the item, whatever the counter says", async () => {
    // On a cluster this is what closes the gap between reading the counter and writing: the item keeps, per lock
    // key, the highest token written to it. Simulated here by a writer whose token is ahead of the counter read.
    const client = connect();
    const keyPrefix = testPrefix("fence");
    const store = newStore(client, { keyPrefix });
    await client.set(fenceCounterKey(keyPrefix, "acct:7"), "3");
    await store.put(["acct"], "7", { v: "new holder" }, { fence: { lockKey: "acct:7", token: 5 } });
    const stale = await store
      .put(["acct"], "7", { v: "old holder" }, { fence: { lockKey: "acct:7", token: 4 } })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(FencedWriteError);
    expect(stale).toMatchObject({ newestToken: 5 });
    expect(await client.hget(storeItemKeys(keyPrefix, ["acct"], "7").fenceMarks, "acct:7")).toBe("5");
    // Other lock keys and unfenced writes are not affected.
    await store.put(["acct"], "7", { v: "other lock" }, { fence: { lockKey: "acct:other", token: 1 } });
    await store.put(["acct"], "7", { v: "unfenced" });
    expect((await store.get(["acct"], "7"))?.value).toEqual({ v: "unfenced" });
  });

  it("let concurrent writers with the current token through", async () => {
    const client = connect();
    const keyPrefix = testPrefix("fence");
    const store = newStore(client, { keyPrefix });
    const token = await client.incr(fenceCounterKey(keyPrefix, "job"));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.put(["jobs"], `part-${i}`, { i }, { fence: { lockKey: "job", token } }),
      ),
    );
    expect(await store.search(["jobs"], { limit: 20 })).toHaveLength(10);
  });
});
