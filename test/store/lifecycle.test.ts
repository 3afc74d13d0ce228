import { inject } from "vitest";
import { freePort } from "../../scripts/local-redis.js";
import { RedisConnectionError, RedisStore } from "../../src/index.js";
import { newRedis, testPrefix } from "../helpers/redis.js";

describe("RedisStore lifecycle", () => {
  it("fromUrl opens its own client and close() closes it", async () => {
    const store = RedisStore.fromUrl(inject("redisUrl"), { keyPrefix: testPrefix("life") });
    store.start();
    await store.put(["ns"], "k", { v: 1 });
    expect((await store.get(["ns"], "k"))?.value).toEqual({ v: 1 });
    store.stop();
    expect((await store.get(["ns"], "k"))?.value).toEqual({ v: 1 }); // stop() is harmless
    await store.close();
    await store.close(); // idempotent
    await expect(store.get(["ns"], "k")).rejects.toThrow();
  });

  it("opens a cluster client from a redis+cluster:// URL", async () => {
    const store = RedisStore.fromUrl(`redis+cluster://${inject("clusterNodes")}`, { keyPrefix: testPrefix("life") });
    try {
      await store.put(["ns"], "k", { v: 2 });
      expect(await store.listNamespaces()).toEqual([["ns"]]);
    } finally {
      await store.close();
    }
  });

  it("never closes a client it was handed", async () => {
    const client = newRedis();
    const store = new RedisStore({ client, keyPrefix: testPrefix("life") });
    await store.put(["ns"], "k", { v: 1 });
    await store.close();
    expect(await client.ping()).toBe("PONG");
    expect((await store.get(["ns"], "k"))?.value).toEqual({ v: 1 });
  });

  it("reports an unreachable server as RedisConnectionError", async () => {
    const port = await freePort();
    const store = RedisStore.fromUrl(
      `redis://127.0.0.1:${port}`,
      {},
      { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true },
    );
    try {
      const error = await store.batch([{ namespace: ["ns"], key: "k" }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisConnectionError);
    } finally {
      await store.close();
    }
  });
});
