// A LangGraph graph that remembers its state in Redis between runs.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/quickstart.ts
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { RedisSaver } from "langgraph-redis";

const State = Annotation.Root({
  // Every message ever added to the conversation: the reducer appends.
  messages: Annotation<string[]>({ reducer: (all, added) => all.concat(added), default: () => [] }),
});

const graph = new StateGraph(State)
  .addNode("agent", (state) => ({ messages: [`agent saw ${state.messages.length} message(s)`] }))
  .addEdge(START, "agent")
  .addEdge("agent", END);

// fromUrl opens (and close() closes) its own client; pass `{ client }` to the constructor to share one instead.
const checkpointer = RedisSaver.fromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  keyPrefix: "quickstart",
  ttl: { defaultTtlMs: 24 * 60 * 60 * 1000 }, // forget a conversation after a day without activity
});
const app = graph.compile({ checkpointer });

const config = { configurable: { thread_id: `conversation-${Date.now()}` } };
try {
  await app.invoke({ messages: ["hello"] }, config);
  // Same thread: the graph starts from the state the first run left in Redis.
  const second = await app.invoke({ messages: ["hello again"] }, config);
  console.log(second.messages);

  let checkpoints = 0;
  for await (const _snapshot of app.getStateHistory(config)) checkpoints++;
  console.log(`state history of ${config.configurable.thread_id}: ${checkpoints} checkpoints`);

  await checkpointer.deleteThread(config.configurable.thread_id);
} finally {
  await checkpointer.close();
}
