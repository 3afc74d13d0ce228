// The README's quick start: a checkpointed graph whose payment node is guarded by a lock on the order, writing to
// the shared store with the lock's fencing token, then the store's history of the order.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/readme-quick-start.ts
import { Annotation, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import { Redis } from "ioredis";
import { currentFence, guarded, RedisSaver, RedisStore } from "langgraph-redis";

const client = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const checkpointer = new RedisSaver({ client }); // a checkpoint after every step
const store = new RedisStore({ client, agentId: "payment-agent" }); // memory shared by every agent and process

const Order = Annotation.Root({ orderId: Annotation<string>, status: Annotation<string> });

// One agent at a time acts on an order, in any process; a write made after the lock was lost is rejected.
const charge = guarded(
  async (state: typeof Order.State, config: LangGraphRunnableConfig) => {
    const fence = currentFence(config, `order:${state.orderId}`);
    await store.put(["orders"], state.orderId, { status: "charged" }, { fence });
    return { status: "charged" };
  },
  { client, key: (state) => `order:${state.orderId}` },
);

const graph = new StateGraph(Order).addNode("charge", charge).addEdge(START, "charge").compile({ checkpointer, store });
await graph.invoke({ orderId: "42" }, { configurable: { thread_id: "order-42" } });
console.log(await store.history(["orders"], "42")); // who wrote what, in which order

await checkpointer.deleteThread("order-42");
await client.quit();
