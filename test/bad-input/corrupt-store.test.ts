/**
 * Corrupt or foreign bytes planted under RedisStore's keys (random bytes, truncated records, another program's formats, a
 * key of the wrong Redis type): reads that touch them fail with CorruptDataError naming that key, and other items
 * read as before.
 */
import fc from "fast-check";
import { RedisStore } from "../../src/index.js";
import { storeItemKeys, storeNamespaceKeys } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { expectNamedOrIntact, garbage, outcome } from "./corrupt-helpers.js";

describe.each(targets)("corrupt bytes under our keys ($name)", ({ name, connect }) => {
  const runs = name === "cluster" ? 4 : 8;

  it("RedisStore: a named error naming the key; other items unaffected", async (context) => {
    const client = connect();
    const keyPrefix = testPrefix("corrupt");
    const store = new RedisStore({ client, keyPrefix });
    const ns = ["docs", "alice"];
    await store.put(ns, "victim", { text: "v" });
    await store.put(ns, "victim", { text: "v2" });
    await store.put(ns, "bystander", { text: "b" });
    const read = (key: string) => async () => {
      const item = await store.get(ns, key);
      const history = await store.history(ns, key);
      return { value: item?.value, versions: history.map((h) => [h.version, h.value]) };
    };
    const intact = await read("victim")();
    const bystander = await read("bystander")();
    let planted = 0;

    const keys = [storeNamespaceKeys(keyPrefix, ns).items, storeItemKeys(keyPrefix, ns, "victim").history];
    for (const key of keys) {
      const type = await client.type(key);
      if (type === "hash") {
        const original = (await client.hgetBuffer(key, "victim")) as Buffer;
        await fc.assert(
          fc.asyncProperty(garbage(original), async (bytes) => {
            planted++;
            await client.hset(key, "victim", bytes);
            expectNamedOrIntact(await outcome(read("victim")), key, intact);
            expect(await read("bystander")()).toEqual(bystander);
            await client.hset(key, "victim", original);
          }),
          { numRuns: runs * 2 },
        );
      }
      if (type === "zset") {
        const [member, score] = (await client.zrangeBuffer(key, "-1", "-1", "WITHSCORES")) as Buffer[];
        await fc.assert(
          fc.asyncProperty(garbage(member as Buffer), async (bytes) => {
            planted++;
            await client.zrem(key, member as Buffer);
            await client.zadd(key, Number(score), bytes);
            expectNamedOrIntact(await outcome(read("victim")), key, intact);
            expect(await read("bystander")()).toEqual(bystander);
            await client.zrem(key, bytes);
            await client.zadd(key, Number(score), member as Buffer);
          }),
          { numRuns: runs * 2 },
        );
      }
      const dump = await client.dumpBuffer(key);
      await client.del(key);
      await client.set(key, "foreign");
      planted++;
      expectNamedOrIntact(await outcome(read("victim")), key, intact);
      await client.del(key);
      if (dump) await client.restore(key, 0, dump);
    }
    expect(await read("victim")()).toEqual(intact);
    recordCounts(context, { inputsTried: planted });
  });
});
