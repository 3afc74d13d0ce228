import { Redis } from "ioredis";
import { freePort } from "../../scripts/local-redis.js";
import type { RedisClient } from "../../src/client.js";
import { createRedisContext } from "../../src/context.js";
import { InvalidInputError, RedisConnectionError, RedisPermissionError } from "../../src/errors.js";
import { redisCall } from "../../src/redis-call.js";
import { isConnectionError, isPermissionError, toConnectionError, toNamedRedisError } from "../../src/redis-errors.js";
import { newRedis, redisUrl } from "../helpers/redis.js";

/** Runs `call` on `client` through the library's Redis-call wrapper. */
function named<T>(client: RedisClient, operation: string, write: boolean, call: (c: RedisClient) => Promise<T>) {
  return redisCall(createRedisContext({ client, keyPrefix: "t", component: "test" }), { operation, write }, call);
}

/** Runs `fn` and returns what it threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("ACL denials become RedisPermissionError", () => {
  it("maps a real NOPERM reply and says what the user needs", async () => {
    const admin = newRedis();
    const user = `denied${Math.random().toString(16).slice(2, 8)}`;
    await admin.call("ACL", ["SETUSER", user, "on", ">pw", "~allowed:*", "+get"]);
    try {
      const client = new Redis(redisUrl(), { username: user, password: "pw", maxRetriesPerRequest: 0 });
      const denied = await thrown(() => named(client, "RedisStore.get", false, (c) => c.get("other:key")));
      expect(denied).toBeInstanceOf(RedisPermissionError);
      expect((denied as Error).message).toMatch(/^RedisStore\.get was denied by the Redis ACL \(NOPERM .*aclRules\(\)/);
      expect(isPermissionError((denied as Error).cause)).toBe(true);
      expect(isConnectionError(denied)).toBe(false);
      client.disconnect();
    } finally {
      await admin.call("ACL", ["DELUSER", user]);
    }
  });

  it("leaves other errors to the connection mapping", () => {
    expect(toNamedRedisError(new Error("Connection is closed."), "op", false)).toBeInstanceOf(RedisConnectionError);
    const other = new Error("ERR syntax error");
    expect(toNamedRedisError(other, "op", false)).toBe(other);
  });
});

describe("connection failures become RedisConnectionError", () => {
  it("maps a refused connection (nothing listening) and keeps the cause", async () => {
    const client = new Redis({ port: await freePort(), maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    const error = await thrown(() => named(client, "RedisSaver.put", true, (c) => c.set("k", "v")));
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toMatch(/^RedisSaver\.put failed: Redis is unreachable/);
    expect((error as Error).message).toMatch(/applied whole or not at all/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    client.disconnect();
  });

  it("maps a connection closed while the command was in flight", async () => {
    const client = newRedis();
    const victim = new Redis(redisUrl(), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    victim.on("error", () => {});
    const id = Number(await victim.client("ID"));
    // the reply to BLPOP never comes: the connection is killed under it
    const pending = thrown(() => named(victim, "RedisStore.get", false, (c) => c.blpop("nothing", 0)));
    await client.client("KILL", "ID", String(id));
    const error = await pending;
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).not.toMatch(/applied/);
    victim.disconnect();
  });

  it("maps replies that mean the server is not serving yet, and leaves every other error alone", () => {
    for (const message of [
      "LOADING Redis is loading the dataset in memory",
      "CLUSTERDOWN The cluster is down",
      "READONLY You can't write against a read only replica.",
      "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    ]) {
      expect(isConnectionError(new Error(message))).toBe(true);
      expect(toConnectionError(new Error(message), "op", false)).toBeInstanceOf(RedisConnectionError);
    }
    for (const error of [
      new Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new Error("NOPERM this user has no permissions"),
      new InvalidInputError("bad id"),
      "a string",
    ]) {
      expect(isConnectionError(error)).toBe(false);
      expect(toConnectionError(error, "op", true)).toBe(error);
    }
  });
});
