/**
 * RedisSaver's options (zod-validated, defaults in the schema), fromUrl owning its client, and close() closing
 * only what the saver opened.
 */
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { InvalidOptionError, RedisSaver } from "../../src/index.js";
import { newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { inputMetadata, makeCheckpoint } from "./saver-helpers.js";

describe("RedisSaver options", () => {
  it("applies the defaults", () => {
    const saver = new RedisSaver({ client: newRedis() });
    expect(saver.keyPrefix).toBe("lgr");
    expect(saver.serde).toBeInstanceOf(JsonPlusSerializer);
  });

  it.each([
    [{ client: undefined }, "RedisSaver.client", "an ioredis Redis or Cluster instance"],
    [{ client: {} }, "RedisSaver.client", "an ioredis Redis or Cluster instance"],
    [{ keyPrefix: "has space" }, "RedisSaver.keyPrefix", "without braces"],
    [{ keyPrefix: "{tag}" }, "RedisSaver.keyPrefix", "without braces"],
    [{ ttl: { defaultTtlMs: 0 } }, "RedisSaver.ttl.defaultTtlMs", ""],
    [{ ttl: { defaultTtlMs: 1.5 } }, "RedisSaver.ttl.defaultTtlMs", ""],
    [{ ttl: { refreshOnRead: "yes" } }, "RedisSaver.ttl.refreshOnRead", "boolean"],
    [{ ttl: { ttlMs: 5 } }, "RedisSaver.ttl.ttlMs", ""],
    [{ ttlMs: 60_000 }, "RedisSaver.ttlMs", "ttl: { defaultTtlMs } instead (the option was renamed)"],
    [{ refreshOnRead: true }, "RedisSaver.refreshOnRead", "ttl: { refreshOnRead } instead"],
    [{ serde: { dumpsTyped: 1 } }, "RedisSaver.serde", "dumpsTyped() and loadsTyped()"],
  ])("rejects %j, naming the option", (partial, option, expected) => {
    const options = "client" in partial ? partial : { client: newRedis(), ...partial };
    const error = (() => {
      try {
        new RedisSaver(options as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(expected);
  });

  it("uses a custom serializer for everything it stores", async () => {
    const json = new JsonPlusSerializer();
    const calls = { dumps: 0, loads: 0 };
    const serde = {
      dumpsTyped: (value: unknown) => {
        calls.dumps++;
        return json.dumpsTyped(value);
      },
      loadsTyped: (type: string, data: Uint8Array | string) => {
        calls.loads++;
        return json.loadsTyped(type, data);
      },
    };
    const saver = new RedisSaver({ client: newRedis(), keyPrefix: testPrefix("serde"), serde });
    const checkpoint = makeCheckpoint({ a: 1 });
    const config = await saver.put({ configurable: { thread_id: "t" } }, checkpoint, inputMetadata, { a: 1 });
    await saver.putWrites(config, [["a", 2]], "task");
    expect((await saver.getTuple(config))?.checkpoint.channel_values).toEqual({ a: 1 });
    expect(calls).toEqual({ dumps: 4, loads: 4 });
  });
});

describe("RedisSaver.fromUrl and close()", () => {
  it("opens its own client, works, and closes it on close()", async () => {
    const saver = RedisSaver.fromUrl(redisUrl(), { keyPrefix: testPrefix("url"), ttl: { defaultTtlMs: 60_000 } });
    const checkpoint = makeCheckpoint({ a: 1 });
    await saver.put({ configurable: { thread_id: "t" } }, checkpoint, inputMetadata, { a: 1 });
    expect((await saver.getTuple({ configurable: { thread_id: "t" } }))?.checkpoint.id).toBe(checkpoint.id);
    expect(saver.client.status).toBe("ready");
    await saver.close();
    expect(saver.client.status).toBe("end");
    await saver.close(); // idempotent
  });

  it("validates its options", () => {
    expect(() => RedisSaver.fromUrl(redisUrl(), { ttl: { defaultTtlMs: -1 } })).toThrow(InvalidOptionError);
  });

  it("never closes a client it was handed", async () => {
    const client = newRedis();
    const saver = new RedisSaver({ client, keyPrefix: testPrefix("handed") });
    await saver.getTuple({ configurable: { thread_id: "t" } });
    await saver.close();
    expect(await client.ping()).toBe("PONG");
  });
});
