import { Command } from "@langchain/langgraph";
import {
  type ConflictContext,
  guarded,
  InvalidInputError,
  type LockAcquiredEvent,
  LockConflictError,
  type LockConflictEvent,
} from "langgraph-redis";
import type { RedisClient } from "../../src/client.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { type Deferred, deferred, isLocked, until } from "./helpers.js";

/** Holds `name` through a guarded node until `release` resolves; resolves `held` once inside. */
function holdLock(client: RedisClient, prefix: string, name: string) {
  const held = deferred();
  const release: Deferred = deferred();
  const done = guarded(
    async () => {
      held.resolve();
      await release.promise;
      return { holder: "first" };
    },
    { client, keyPrefix: prefix, key: name },
  )({}, {});
  return { held: held.promise, release: () => release.resolve(), done };
}

describe.each(targets)("onConflict on $name", ({ connect }) => {
  it('"fail" throws LockConflictError at once, without running the node', async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:1");
    await holder.held;
    const conflicts: LockConflictEvent[] = [];
    let ran = false;
    const node = guarded(
      async () => {
        ran = true;
        return {};
      },
      {
        client,
        keyPrefix: prefix,
        key: "order:1",
        onConflict: "fail",
        events: { onConflict: (e) => conflicts.push(e) },
      },
    );
    const error = await node({}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockConflictError);
    expect((error as LockConflictError).lockKeys).toEqual(["order:1"]);
    expect(ran).toBe(false);
    expect(conflicts).toMatchObject([
      { lockKeys: ["order:1"], conflictKey: "order:1", attempt: 1, onConflict: "fail" },
    ]);
    expect(await isLocked(client, prefix, "order:1")).toBe(true);
    holder.release();
    await holder.done;
  });

  it('"wait" queues until the holder releases, then runs; onAcquired reports the wait', async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:2");
    await holder.held;
    let holderDone = false;
    const acquired: LockAcquiredEvent[] = [];
    const conflicts: LockConflictEvent[] = [];
    const waiting = guarded(async () => ({ ranAfterHolder: holderDone }), {
      client,
      keyPrefix: prefix,
      key: "order:2",
      retryIntervalMs: 5,
      events: { onAcquired: (e) => acquired.push(e), onConflict: (e) => conflicts.push(e) },
    })({}, {});
    await until(() => conflicts.length === 1, "the waiter to meet the held lock");
    holderDone = true;
    holder.release();
    await holder.done;
    expect(await waiting).toEqual({ ranAfterHolder: true });
    expect(conflicts[0]?.onConflict).toBe("wait");
    expect(acquired).toHaveLength(1);
    expect(acquired[0]?.waitedMs).toBeGreaterThan(0);
  });

  it('"wait" is timed on a monotonic clock: a wall-clock step neither ends it early nor stretches it', async () => {
    const client = connect();
    const prefix = testPrefix();
    const realNow = Date.now.bind(Date);
    const stepClock = (byMs: number) => vi.spyOn(Date, "now").mockImplementation(() => realNow() + byMs);
    try {
      // Forward by ten minutes while waiting: the waiter still gets the lock once the holder lets go.
      const holder = holdLock(client, prefix, "order:6");
      await holder.held;
      const conflicts: LockConflictEvent[] = [];
      const waiting = guarded(async () => ({ ran: true }), {
        client,
        keyPrefix: prefix,
        key: "order:6",
        acquireTimeoutMs: 10_000,
        retryIntervalMs: 5,
        events: { onConflict: (e) => conflicts.push(e) },
      })({}, {});
      await until(() => conflicts.length === 1, "the waiter to meet the held lock");
      stepClock(600_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      holder.release();
      await holder.done;
      expect(await waiting).toEqual({ ran: true });
      vi.restoreAllMocks();

      // Back by an hour while waiting on a lock that stays held: it still gives up after acquireTimeoutMs.
      const keeper = holdLock(client, prefix, "order:7");
      await keeper.held;
      const started = performance.now();
      const giving = guarded(async () => ({}), {
        client,
        keyPrefix: prefix,
        key: "order:7",
        acquireTimeoutMs: 300,
        retryIntervalMs: 5,
        events: { onConflict: () => stepClock(-3_600_000) },
      })({}, {});
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => {
        timer = setTimeout(() => resolve("still waiting"), 10_000);
      });
      expect(await Promise.race([giving.catch((e: unknown) => e), bound])).toBeInstanceOf(LockConflictError);
      clearTimeout(timer);
      expect(performance.now() - started).toBeLessThan(10_000);
      keeper.release();
      await keeper.done;
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('"wait" gives up with LockConflictError after acquireTimeoutMs', async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:3");
    await holder.held;
    const node = guarded(async () => ({}), {
      client,
      keyPrefix: prefix,
      key: "order:3",
      acquireTimeoutMs: 150,
      retryIntervalMs: 10,
    });
    await expect(node({}, {})).rejects.toThrow(/stayed held by another agent for acquireTimeoutMs \(150 ms\)/);
    holder.release();
    await holder.done;
  });

  it("stops waiting when the run is cancelled", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:4");
    await holder.held;
    const cancel = new AbortController();
    const node = guarded(async () => ({}), {
      client,
      keyPrefix: prefix,
      key: "order:4",
      retryIntervalMs: 5,
      events: { onConflict: () => cancel.abort(new Error("cancelled by user")) },
    });
    await expect(node({}, { signal: cancel.signal })).rejects.toThrow("cancelled by user");
    holder.release();
    await holder.done;
  });

  it("a handler can retry later; it sees the attempt number and runs with nothing held", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:5");
    await holder.held;
    const seen: ConflictContext<{ id: string }>[] = [];
    const heldDuringHandler: boolean[] = [];
    const node = guarded(async (state: { id: string }) => ({ done: state.id }), {
      client,
      keyPrefix: prefix,
      key: ["order:5", "customer:9"],
      onConflict: async (ctx) => {
        seen.push(ctx);
        heldDuringHandler.push(await isLocked(client, prefix, "customer:9"));
        if (ctx.attempt === 3) holder.release();
        return { action: "retry", afterMs: 5 };
      },
    });
    await expect(node({ id: "x" }, {})).resolves.toEqual({ done: "x" });
    await holder.done;
    expect(seen.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(seen[0]).toMatchObject({ lockKeys: ["customer:9", "order:5"], conflictKey: "order:5", state: { id: "x" } });
    // customer:9 sorts first and was taken, but was let go before the handler ran.
    expect(heldDuringHandler).toEqual([false, false, false]);
  });

  it("a handler can skip the node with an update or route elsewhere with a Command", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:6");
    await holder.held;
    let ran = false;
    const body = async (): Promise<{ status: string } | Command> => {
      ran = true;
      return { status: "paid" };
    };
    const skip = guarded(body, {
      client,
      keyPrefix: prefix,
      key: "order:6",
      onConflict: () => ({ action: "skip", result: { status: "busy" } }),
    });
    const route = guarded(body, {
      client,
      keyPrefix: prefix,
      key: "order:6",
      onConflict: () => ({ action: "skip", result: new Command({ goto: "manualReview" }) }),
    });
    expect(await skip({}, {})).toEqual({ status: "busy" });
    const routed = await route({}, {});
    expect(routed).toBeInstanceOf(Command);
    expect((routed as Command).goto).toEqual(["manualReview"]);
    expect(ran).toBe(false);
    holder.release();
    await holder.done;
  });

  it("a handler can fail, throw its own error, or be told off for a bad decision", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:7");
    await holder.held;
    const make = (onConflict: () => unknown) =>
      guarded(async () => ({}), {
        client,
        keyPrefix: prefix,
        key: "order:7",
        onConflict: onConflict as () => { action: "fail" },
      });
    await expect(make(() => ({ action: "fail" }))({}, {})).rejects.toThrow(LockConflictError);
    await expect(
      make(() => {
        throw new SyntaxError("route to a human");
      })({}, {}),
    ).rejects.toThrow(SyntaxError);
    await expect(make(() => ({ action: "later" }))({}, {})).rejects.toThrow(InvalidInputError);
    await expect(make(() => ({ action: "retry", afterMs: -1 }))({}, {})).rejects.toThrow(InvalidInputError);
    holder.release();
    await holder.done;
  });

  it("handler retries are bounded by acquireTimeoutMs", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = holdLock(client, prefix, "order:8");
    await holder.held;
    let calls = 0;
    const node = guarded(async () => ({}), {
      client,
      keyPrefix: prefix,
      key: "order:8",
      acquireTimeoutMs: 100,
      onConflict: () => {
        calls++;
        return { action: "retry", afterMs: 30 };
      },
    });
    await expect(node({}, {})).rejects.toThrow(LockConflictError);
    expect(calls).toBeGreaterThan(0);
    holder.release();
    await holder.done;
  });
});
