// Redis Cluster: RedisSaver, RedisStore and guarded() on an ioredis Cluster client, with no other change. Each
// thread's checkpoints share one hash tag (one slot); listing all threads and searching the store span the slots.
// Run: REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npx tsx examples/cluster.ts
import { randomBytes } from "node:crypto";
import { Annotation, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import { Cluster } from "ioredis";
import { currentFence, guarded, RedisSaver, RedisStore } from "langgraph-redis";

const nodes = (process.env.REDIS_CLUSTER_NODES ?? "127.0.0.1:7000").split(",").map((hostPort) => {
  const [host = "127.0.0.1", port = "7000"] = hostPort.trim().split(":");
  return { host, port: Number(port) };
});
const client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 3 } });
const keyPrefix = `cluster-example-${randomBytes(4).toString("hex")}`; // keyPrefix must match for fenced writes
const checkpointer = new RedisSaver({ client, keyPrefix });
const store = new RedisStore({ client, keyPrefix, agentId: "payment-agent" });

const Order = Annotation.Root({ orderId: Annotation<string>, status: Annotation<string> });
const pay = guarded(
  async (state: typeof Order.State, config: LangGraphRunnableConfig) => {
    const fence = currentFence(config, `order:${state.orderId}`);
    await store.put(["orders", state.orderId], "payment", { status: "paid", token: fence.token }, { fence });
    return { status: "paid" };
  },
  { client, keyPrefix, key: (state) => `order:${state.orderId}` },
);
const graph = new StateGraph(Order).addNode("pay", pay).addEdge(START, "pay").compile({ checkpointer, store });

const orders = ["A-1", "B-2", "C-3"];
try {
  for (const orderId of orders) {
    await graph.invoke({ orderId }, { configurable: { thread_id: `order-${orderId}` } });
    const slot = await client.cluster("KEYSLOT", `{order-${orderId}}`);
    console.log(`order-${orderId}: checkpoints in slot ${slot}`);
  }
  // Both of these read several slots: the saver's cross-thread index, the store's namespace registry.
  const threads = new Set<string>();
  for await (const tuple of checkpointer.list({}, { limit: 100 })) threads.add(tuple.config.configurable?.thread_id);
  const payments = await store.search(["orders"], { filter: { status: "paid" } });
  console.log(`threads listed across the cluster: ${threads.size}; paid orders found: ${payments.length}`);
} finally {
  for (const orderId of orders) {
    await checkpointer.deleteThread(`order-${orderId}`);
    await store.delete(["orders", orderId], "payment");
  }
  await client.quit();
}
