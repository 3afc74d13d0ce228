/**
 * Corrupt or foreign bytes planted under RedisSaver's keys (random bytes, truncated records, another program's formats, a
 * key of the wrong Redis type): reads that touch them fail with CorruptDataError naming that key, and other threads
 * read as before.
 */
import fc from "fast-check";
import { RedisSaver } from "../../src/index.js";
import { saverThreadKeys } from "../../src/keys.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { expectNamedOrIntact, garbage, hashFields, outcome } from "./corrupt-helpers.js";

const EMPTY_FRAME = Buffer.from([1]);

describe.each(targets)("corrupt bytes under our keys ($name)", ({ name, connect }) => {
  const runs = name === "cluster" ? 4 : 8;

  it("RedisSaver: a named error naming the key; other threads unaffected", async (context) => {
    const client = connect();
    const keyPrefix = testPrefix("corrupt");
    const saver = new RedisSaver({ client, keyPrefix });
    const write = async (threadId: string) => {
      const checkpoint = {
        v: 4,
        id: "1f000000-0000-6000-8000-000000000001",
        ts: "2025-01-01T00:00:00.000Z",
        channel_values: { messages: ["hi", threadId] },
        channel_versions: { messages: 1 },
        versions_seen: {},
      };
      const config = await saver.put(
        { configurable: { thread_id: threadId, checkpoint_ns: "" } },
        checkpoint,
        { source: "input", step: -1, parents: {} },
        { messages: 1 },
      );
      await saver.putWrites(config, [["messages", "pending"]], "task-1");
      return config;
    };
    const victim = await write("victim");
    await write("bystander");
    const read = (threadId: string) => async () => {
      const tuple = await saver.getTuple({ configurable: { thread_id: threadId } });
      return { values: tuple?.checkpoint.channel_values, writes: tuple?.pendingWrites };
    };
    const intact = await read("victim")();
    const bystander = await read("bystander")();
    let planted = 0;

    for (const key of saverThreadKeys(keyPrefix, "victim").all) {
      const type = await client.type(key);
      if (type === "hash") {
        for (const field of await hashFields(client, key)) {
          const original = (await client.hgetBuffer(key, field)) as Buffer;
          await fc.assert(
            // a lone format byte is a valid empty frame (a channel cleared in that version): not corrupt
            fc.asyncProperty(
              garbage(original).filter((b) => !b.equals(EMPTY_FRAME)),
              async (bytes) => {
                planted++;
                await client.hset(key, field, bytes);
                expectNamedOrIntact(await outcome(read("victim")), key, intact);
                expect(await read("bystander")()).toEqual(bystander);
                await client.hset(key, field, original);
              },
            ),
            { numRuns: runs },
          );
        }
      }
      // the key holds another Redis type altogether
      const dump = await client.dumpBuffer(key);
      await client.del(key);
      await client.set(key, "foreign");
      planted++;
      expectNamedOrIntact(await outcome(read("victim")), key, intact);
      expect(await read("bystander")()).toEqual(bystander);
      await client.del(key);
      if (dump) await client.restore(key, 0, dump);
    }
    expect(await read("victim")()).toEqual(intact);
    expect(victim.configurable?.thread_id).toBe("victim");
    recordCounts(context, { inputsTried: planted });
  });
});
