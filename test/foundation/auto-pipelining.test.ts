/**
 * Clients with ioredis's `enableAutoPipelining`: the checkpointer, the store and guarded() work on them, standalone
 * and on a cluster. On a cluster ioredis routes an autopipelined command by its first argument, which for the
 * library's scripts is their number of keys; they skip autopipelining (src/lua/index.ts) instead of failing.
 */
import { emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/client.js";
import { guarded, RedisSaver, RedisStore } from "../../src/index.js";
import { COMMAND_PREFIX } from "../../src/lua/index.js";
import { clusterNodes, redisUrl, testPrefix } from "../helpers/redis.js";

const opened: RedisClient[] = [];
afterAll(() => {
  for (const client of opened) client.disconnect();
});

const kinds: { name: string; connect: () => RedisClient }[] = [
  { name: "standalone", connect: () => new Redis(redisUrl(), { enableAutoPipelining: true, maxRetriesPerRequest: 1 }) },
  {
    name: "cluster",
    connect: () =>
      new Cluster(clusterNodes(), {
        enableAutoPipelining: true,
        clusterRetryStrategy: (times) => (times > 3 ? null : 100),
        redisOptions: { maxRetriesPerRequest: 1 },
      }),
  },
];

describe.each(kinds)("enableAutoPipelining on a $name client", ({ connect }) => {
  it("stores and reads checkpoints, writes, store items and takes locks from many agents at once", async () => {
    const client = connect();
    opened.push(client);
    const keyPrefix = testPrefix("autopipe");
    const saver = new RedisSaver({ client, keyPrefix });
    const store = new RedisStore({ client, keyPrefix });
    const agents = 24;
    const node = guarded(async (state: { agent: number }) => ({ agent: state.agent }), {
      client,
      keyPrefix,
      key: (state: { agent: number }) => `order:${state.agent % 6}`,
    });
    await Promise.all(
      Array.from({ length: agents }, async (_, agent) => {
        let config = { configurable: { thread_id: `agent-${agent}`, checkpoint_ns: "" } };
        for (let step = 0; step < 5; step++) {
          const checkpoint = emptyCheckpoint();
          checkpoint.channel_values = { step };
          checkpoint.channel_versions = { step: step + 1 };
          config = (await saver.put(config, checkpoint, { source: "loop", step, parents: {} }, { step: step + 1 })) as {
            configurable: { thread_id: string; checkpoint_ns: string };
          };
          await saver.putWrites(config, [["step", step]], `task-${step}`);
          await store.put(["agents", `team-${agent % 4}`], `agent-${agent}`, { step });
        }
        await node({ agent }, { configurable: { thread_id: `agent-${agent}` } });
      }),
    );
    for (let agent = 0; agent < agents; agent++) {
      const tuple = await saver.getTuple({ configurable: { thread_id: `agent-${agent}` } });
      expect(tuple?.checkpoint.channel_values).toEqual({ step: 4 });
      expect(tuple?.pendingWrites).toEqual([["task-4", "step", 4]]);
    }
    const history = [];
    for await (const tuple of saver.list({ configurable: { thread_id: "agent-3" } })) history.push(tuple);
    expect(history).toHaveLength(5);
    const items = await store.search(["agents"], { limit: 100 });
    expect(items).toHaveLength(agents);
    expect(items.every((item) => (item.value as { step: number }).step === 4)).toBe(true);
  });

  it("keeps the client's own ignored commands and adds the scripts once", async () => {
    const client = connect();
    opened.push(client);
    if (!(client instanceof Cluster)) return;
    client.options.autoPipeliningIgnoredCommands = ["get"];
    // The scripts are registered on a component's first call.
    await new RedisSaver({ client, keyPrefix: testPrefix("autopipe") }).getTuple({ configurable: { thread_id: "t" } });
    await new RedisStore({ client, keyPrefix: testPrefix("autopipe") }).get(["n"], "k");
    const ignored = client.options.autoPipeliningIgnoredCommands;
    expect(ignored[0]).toBe("get");
    expect(ignored.filter((name) => name === `${COMMAND_PREFIX}saverPut`)).toHaveLength(1);
  });
});
