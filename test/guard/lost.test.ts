import { Redis } from "ioredis";
import {
  guarded,
  LockLostError,
  type LockLostEvent,
  type LockReleasedEvent,
  RedisConnectionError,
} from "langgraph-redis";
import { startRedis } from "../../scripts/local-redis.js";
import { lockKey } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { deferred } from "./helpers.js";

/** Resolves with the signal's reason once it aborts. */
function aborted(signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve) => signal?.addEventListener("abort", () => resolve(signal.reason), { once: true }));
}

describe.each(targets)("a lost lock on $name", ({ connect }) => {
  it("taken over by someone else: aborts the node's signal and fails with LockLostError", async () => {
    const client = connect();
    const prefix = testPrefix();
    const inside = deferred();
    const lost: LockLostEvent[] = [];
    const released: LockReleasedEvent[] = [];
    let reason: unknown;
    const run = guarded(
      async (_state: unknown, config) => {
        inside.resolve();
        reason = await aborted(config.signal);
        throw reason;
      },
      {
        client,
        keyPrefix: prefix,
        key: "order:1",
        lockTimeoutMs: 2000,
        refreshIntervalMs: 30,
        events: { onLost: (e) => lost.push(e), onReleased: (e) => released.push(e) },
      },
    )({}, {});
    await inside.promise;
    // Another agent steals the lock (as if it had expired and been taken).
    await client.set(lockKey(prefix, "order:1"), "other-agent", "PX", 10_000);

    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect(reason).toBe(error);
    expect((error as LockLostError).lockKeys).toEqual(["order:1"]);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.error).toBe(error);
    expect(released.map((e) => e.outcome)).toEqual(["lost"]);
    // Our release must not delete the new holder's lock.
    expect(await client.get(lockKey(prefix, "order:1"))).toBe("other-agent");
  });

  it("fails at once even if the node ignores its signal, and drops the node's result", async () => {
    const client = connect();
    const prefix = testPrefix();
    const inside = deferred();
    const finish = deferred();
    let nodeReturned = false;
    const run = guarded(
      async () => {
        inside.resolve();
        await finish.promise;
        nodeReturned = true;
        return { approved: true };
      },
      { client, keyPrefix: prefix, key: "order:2", lockTimeoutMs: 2000, refreshIntervalMs: 30 },
    )({}, {});
    await inside.promise;
    await client.del(lockKey(prefix, "order:2"));
    await expect(run).rejects.toThrow(LockLostError);
    expect(nodeReturned).toBe(false);
    finish.resolve();
  });

  it("fails with LockLostError when the process stalled past lockTimeoutMs, even before Redis could say so", async () => {
    const client = connect();
    const prefix = testPrefix();
    const run = guarded(
      async () => {
        // A synchronous stall (a long GC pause, a CPU-bound step): no refresh can run meanwhile.
        const end = performance.now() + 400;
        while (performance.now() < end) {
          // spin
        }
        return { approved: true };
      },
      { client, keyPrefix: prefix, key: "order:3", lockTimeoutMs: 300, refreshIntervalMs: 250 },
    );
    await expect(run({}, {})).rejects.toThrow(/lease ran out before the node returned/);
  });
});

const clientKinds = [
  // Default ioredis settings: commands queue while it reconnects forever, so refreshes never return.
  { kind: "a client that queues commands while it reconnects", options: {} },
  // A fail-fast client: refreshes reject at once (inside redis-semaphore's timer, where nothing else catches them).
  { kind: "a fail-fast client", options: { maxRetriesPerRequest: 0, retryStrategy: () => null } },
];

describe("Redis unreachable before the lock is taken", () => {
  it("fails with RedisConnectionError naming the lock, and never runs the node", async () => {
    const server = await startRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    let ran = false;
    try {
      await client.ping();
      await server.stop();
      const node = guarded(
        async () => {
          ran = true;
          return {};
        },
        { client, keyPrefix: testPrefix(), key: "order:5" },
      );
      const error = await node({}, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect((error as Error).message).toMatch(/taking lock "order:5"/);
      expect(ran).toBe(false);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describe.each(clientKinds)("Redis unreachable while the lock is held, with $kind", ({ options }) => {
  it("fails the node with LockLostError once lockTimeoutMs passes without a refresh", async () => {
    const server = await startRedis();
    const client = new Redis(server.url, options);
    client.on("error", () => {}); // connection errors are expected here
    const prefix = testPrefix();
    const inside = deferred();
    let signalReason: unknown;
    try {
      const run = guarded(
        async (_state: unknown, config) => {
          inside.resolve();
          signalReason = await aborted(config.signal);
          return { approved: true };
        },
        { client, keyPrefix: prefix, key: "order:4", lockTimeoutMs: 600, refreshIntervalMs: 100 },
      )({}, {});
      await inside.promise;
      await server.stop();
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockLostError);
      expect((error as Error).message).toMatch(/no refresh succeeded within lockTimeoutMs \(600 ms\)/);
      expect(signalReason).toBe(error);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
