/**
 * guarded() while Redis is unreachable (a proxy the test cuts): by default it waits offlineWaitMs for Redis and then
 * fails with OfflineLockError without running the node; Redis coming back within the wait lets it take the lock;
 * `offline: "proceed"` runs the node without the lock.
 */
import { guarded, InvalidOptionError, OfflineLockError, RedisConnectionError } from "../../src/index.js";
import { lockKey } from "../../src/keys.js";
import { newRedis, testPrefix } from "../helpers/redis.js";
import { offlineFixtures } from "./offline-fixtures.js";

const { proxied } = offlineFixtures();

describe("guarded() while Redis is unreachable", () => {
  it("waits offlineWaitMs, then fails with OfflineLockError without running the node", async () => {
    const { proxy, client } = await proxied();
    let ran = 0;
    const node = guarded(
      async () => {
        ran++;
        return {};
      },
      { client, keyPrefix: testPrefix(), key: "order:1", offlineWaitMs: 600 },
    );
    await proxy.cut();
    const error = await node({}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfflineLockError);
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as OfflineLockError).lockKeys).toEqual(["order:1"]);
    expect((error as OfflineLockError).waitedMs).toBeGreaterThan(0);
    expect((error as Error).message).toMatch(/taking lock "order:1"/);
    expect(ran).toBe(0);
  });

  it("takes the lock once Redis answers again within the wait", async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix();
    const observer = newRedis();
    const node = guarded(async () => ({ locked: await observer.exists(lockKey(prefix, "order:2")) }), {
      client,
      keyPrefix: prefix,
      key: "order:2",
      offlineWaitMs: 60_000,
    });
    await proxy.cut();
    const running = node({}, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.restore();
    // the node ran holding its lock
    expect(await running).toEqual({ locked: 1 });
  });

  it('runs the node without the lock with offline: "proceed"', async () => {
    const { proxy, client } = await proxied();
    const prefix = testPrefix();
    const observer = newRedis();
    let ran = 0;
    const node = guarded(
      async () => {
        ran++;
        return { locked: await observer.exists(lockKey(prefix, "order:3")) };
      },
      { client, keyPrefix: prefix, key: "order:3", offline: "proceed" },
    );
    await proxy.cut();
    // it ran, and nothing was locked
    await expect(node({}, {})).resolves.toEqual({ locked: 0 });
    expect(ran).toBe(1);
  });

  it("validates the options", () => {
    const client = newRedis();
    expect(() => guarded(async () => ({}), { client, offline: "maybe" as never })).toThrow(InvalidOptionError);
    expect(() => guarded(async () => ({}), { client, offlineWaitMs: 0 })).toThrow(/offlineWaitMs/);
  });
});
