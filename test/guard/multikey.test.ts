import { currentFence, guarded, type LockAcquiredEvent } from "langgraph-redis";
import { lockKey } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { isLocked } from "./helpers.js";

describe.each(targets)("several lock names on $name", ({ name: target, connect }) => {
  it("takes them in sorted order, so agents asking in opposite orders never deadlock", async () => {
    const prefix = testPrefix();
    const [a, b] = ["account:alice", "account:bob"];
    if (target === "cluster") {
      // The point on a cluster: the two locks live in different slots (and here on different masters).
      const probe = connect();
      const slots = await Promise.all(
        [a, b].map((n) => probe.call("CLUSTER", "KEYSLOT", lockKey(prefix, n)) as Promise<number>),
      );
      expect(slots[0]).not.toBe(slots[1]);
    }
    const inside = new Map<string, number>();
    let overlaps = 0;
    const acquired: LockAcquiredEvent[] = [];
    const transfer = (keys: string[]) =>
      guarded(
        async (state: { i: number }) => {
          for (const k of keys) {
            if ((inside.get(k) ?? 0) > 0) overlaps++;
            inside.set(k, (inside.get(k) ?? 0) + 1);
          }
          await new Promise((r) => setTimeout(r, 1));
          for (const k of keys) inside.set(k, (inside.get(k) ?? 0) - 1);
          return { i: state.i };
        },
        // Each agent has its own connection, as separate processes would.
        {
          client: connect(),
          keyPrefix: prefix,
          key: keys,
          retryIntervalMs: 2,
          events: { onAcquired: (e) => acquired.push(e) },
        },
      );
    const aliceToBob = transfer([a, b]);
    const bobToAlice = transfer([b, a]);
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      runs.push(aliceToBob({ i }, {}), bobToAlice({ i }, {}));
    }
    const results = await Promise.allSettled(runs);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(overlaps).toBe(0);
    expect(acquired).toHaveLength(80);
    for (const event of acquired) {
      expect(event.lockKeys).toEqual([a, b]);
      expect(event.fences.map((f) => f.lockKey)).toEqual([a, b]);
    }
    expect(await isLocked(connect(), prefix, a)).toBe(false);
    expect(await isLocked(connect(), prefix, b)).toBe(false);
  });

  it("gives every name its own increasing token, and lets go of all of them when one is busy", async () => {
    const client = connect();
    const prefix = testPrefix();
    const seen: LockAcquiredEvent[] = [];
    const inside: unknown[] = [];
    const node = guarded(
      async (_state: unknown, config) => {
        inside.push(currentFence(config), currentFence(config, "y"));
        return {};
      },
      {
        client,
        keyPrefix: prefix,
        key: ["x", "y", "x"],
        onConflict: "fail",
        events: { onAcquired: (e) => seen.push(e) },
      },
    );
    await node({}, {});
    await node({}, {});
    expect(inside[0]).toEqual(seen[0]?.fences);
    expect(inside[1]).toEqual(seen[0]?.fences[1]);
    expect(seen[0]?.lockKeys).toEqual(["x", "y"]);
    const [x1, y1] = seen[0]?.fences ?? [];
    const [x2, y2] = seen[1]?.fences ?? [];
    expect(x2?.token).toBe((x1?.token ?? 0) + 1);
    expect(y2?.token).toBe((y1?.token ?? 0) + 1);

    await client.set(lockKey(prefix, "y"), "someone-else", "PX", 10_000);
    await expect(node({}, {})).rejects.toThrow(/held by another agent/);
    expect(await isLocked(client, prefix, "x")).toBe(false);
    await client.del(lockKey(prefix, "y"));
  });
});
