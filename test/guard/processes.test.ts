/**
 * Fault tests with real processes: the holder of a lock is killed (-9) or paused (SIGSTOP past lockTimeoutMs); the
 * paused one's late RedisStore write must be refused by fencing.
 * Every process is started by the test and killed by pid in `finally`.
 */
import { guarded, type LockAcquiredEvent, type LockConflictEvent, RedisStore } from "langgraph-redis";
import { inject } from "vitest";
import { lockKey } from "../../src/keys.js";
import { newCluster, newRedis, testPrefix } from "../helpers/redis.js";
import { finished, startProgram, stopAll } from "./processes.js";

const deployments = [
  { name: "standalone", url: () => inject("redisUrl"), connect: newRedis },
  { name: "cluster", url: () => `redis+cluster://${inject("clusterNodes")}`, connect: newCluster },
];

const LOCK_TIMEOUT_MS = 2000;

describe.each(deployments)("a lock holder's process on $name", ({ url, connect }) => {
  afterEach(stopAll);

  it("killed with -9: the lock frees itself after lockTimeoutMs and another agent proceeds", async () => {
    const client = connect();
    const prefix = testPrefix();
    const holder = startProgram("holder.ts", [url(), prefix, "order:9", String(LOCK_TIMEOUT_MS), "60000", "first"]);
    const holderToken = Number((await holder.waitForLine(/^ACQUIRED /)).split(" ")[1]);
    holder.kill("SIGKILL");
    await holder.exited;

    const ttl = await client.pttl(lockKey(prefix, "order:9"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LOCK_TIMEOUT_MS);

    const conflicts: LockConflictEvent[] = [];
    const acquired: LockAcquiredEvent[] = [];
    const next = guarded(async () => ({ done: true }), {
      client,
      keyPrefix: prefix,
      key: "order:9",
      acquireTimeoutMs: 20_000,
      events: { onConflict: (e) => conflicts.push(e), onAcquired: (e) => acquired.push(e) },
    });
    expect(await next({}, {})).toEqual({ done: true });
    expect(conflicts).toHaveLength(1);
    expect(acquired[0]?.token).toBeGreaterThan(holderToken);
  });

  it("paused past lockTimeoutMs: the next holder's write stands, the resumed one's is fenced off and its node fails", async () => {
    const prefix = testPrefix();
    const args = [url(), prefix, "order:10", String(LOCK_TIMEOUT_MS)];
    const first = startProgram("holder.ts", [...args, "3000", "first"]);
    const firstToken = Number((await first.waitForLine(/^ACQUIRED /)).split(" ")[1]);
    first.kill("SIGSTOP");
    try {
      // The second waits (onConflict "wait") until the stopped holder's lock expires, then writes and finishes.
      const second = startProgram("holder.ts", [...args, "10", "second"]);
      const secondToken = Number((await second.waitForLine(/^ACQUIRED /)).split(" ")[1]);
      const secondLines = await finished(second);
      expect(secondToken).toBeGreaterThan(firstToken);
      expect(secondLines).toEqual(expect.arrayContaining(["WRITE ok", "RESULT ok"]));
    } finally {
      first.kill("SIGCONT");
    }
    // Resumed, the first still writes (its node ignores the signal): fencing refuses it, and its node fails.
    const firstLines = await finished(first);
    expect(firstLines).toEqual(expect.arrayContaining(["WRITE FencedWriteError", "RESULT LockLostError"]));
    expect(firstLines).not.toContain("WRITE ok");

    const store = new RedisStore({ client: connect(), keyPrefix: prefix });
    const item = await store.get(["orders"], "order:10");
    expect(item?.value).toEqual({ holder: "second" });
    const history = await store.history(["orders"], "order:10");
    expect(history.map((entry) => entry.writer)).toEqual(["second"]);
  });
});
