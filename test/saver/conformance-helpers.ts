/**
 * Runs LangGraph's official checkpointer conformance suite against RedisSaver on one deployment kind. Each
 * createCheckpointer gets a fresh key prefix, because the suite reuses thread ids ("1", "thread-1") across tests.
 */
import { deltaChannelHistoryTests, validate } from "@langchain/langgraph-checkpoint-validation";
import type { RedisClient } from "../../src/client.js";
import { RedisSaver, type RedisSaverOptions } from "../../src/index.js";
import { testPrefix } from "../helpers/redis.js";

export function runConformanceSuite(
  name: string,
  connect: () => RedisClient,
  extraOptions: () => Partial<RedisSaverOptions> = () => ({}),
): void {
  let client: RedisClient | undefined;
  const initializer = {
    checkpointerName: name,
    beforeAllTimeout: 30_000,
    beforeAll() {
      client = connect();
    },
    createCheckpointer() {
      if (client === undefined) throw new Error("beforeAll did not run");
      return new RedisSaver({ client, keyPrefix: testPrefix("conf"), ...extraOptions() });
    },
    async destroyCheckpointer(saver: RedisSaver) {
      // Removes what the test wrote, through the saver's own cross-thread index and deleteThread.
      const threads = new Set<string>();
      for await (const tuple of saver.list({})) threads.add(tuple.config.configurable?.thread_id as string);
      await Promise.all([...threads].map((threadId) => saver.deleteThread(threadId)));
      await saver.close();
    },
  };
  validate(initializer);
  deltaChannelHistoryTests(initializer);
}
