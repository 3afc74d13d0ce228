// A slow node behind LangGraph's node cache on Redis: the first run computes, the second (even from another
// process, or another compiled graph) is served from Redis until the policy's TTL passes or the cache is cleared.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/node-cache.ts
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { clientFromUrl, RedisCache } from "langgraph-redis";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const cache = new RedisCache({ client, keyPrefix: `example-${Date.now()}` });

const State = Annotation.Root({ question: Annotation<string>, answer: Annotation<string> });
let lookups = 0;

const graph = new StateGraph(State)
  .addNode(
    "lookup",
    async (state: typeof State.State) => {
      lookups++; // stands for a slow model or API call
      return { answer: `the answer to "${state.question}"` };
    },
    { cachePolicy: { ttl: 300 } }, // seconds, as everywhere in LangGraph's cache API
  )
  .addEdge(START, "lookup")
  .addEdge("lookup", END)
  .compile({ cache });

try {
  const first = await graph.invoke({ question: "where is order 42?" });
  const second = await graph.invoke({ question: "where is order 42?" });
  console.log(first.answer, "/", second.answer, `/ node ran ${lookups} time(s)`);
  await graph.clearCache(); // cache.clear([]): every namespace of this cache
  await graph.invoke({ question: "where is order 42?" });
  console.log(`after clearCache the node ran ${lookups} time(s)`);
} finally {
  await client.quit();
}
