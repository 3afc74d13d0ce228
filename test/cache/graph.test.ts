/**
 * RedisCache under a real LangGraph graph: a node with a cachePolicy runs once per distinct input, is served from
 * Redis to a second process-like instance (another client, another compiled graph), honours the policy's TTL, and
 * runs again after graph.clearCache().
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import type { RedisClient } from "../../src/client.js";
import { RedisCache } from "../../src/index.js";
import { cacheBucketKeys, cacheRegistryKey } from "../../src/keys.js";
import { targets, testPrefix } from "../helpers/redis.js";

const State = Annotation.Root({
  input: Annotation<string>,
  answer: Annotation<string>,
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

function buildGraph(client: RedisClient, keyPrefix: string, runs: { expensive: number; cheap: number }) {
  const cache = new RedisCache({ client, keyPrefix });
  const graph = new StateGraph(State)
    .addNode(
      "expensive",
      (state: typeof State.State) => {
        runs.expensive++;
        return { answer: `answer to ${state.input}`, steps: ["expensive"] };
      },
      { cachePolicy: { ttl: 120 } },
    )
    .addNode("cheap", () => {
      runs.cheap++;
      return { steps: ["cheap"] };
    })
    .addEdge(START, "expensive")
    .addEdge("expensive", "cheap")
    .addEdge("cheap", END)
    .compile({ cache });
  return { graph, cache };
}

describe.each(targets)("RedisCache in a graph ($name)", ({ connect }) => {
  it("serves a cached node without running it again, across instances, until the cache is cleared", async () => {
    const keyPrefix = testPrefix("gcache");
    const client = connect();
    const runsA = { expensive: 0, cheap: 0 };
    const runsB = { expensive: 0, cheap: 0 };
    const a = buildGraph(client, keyPrefix, runsA);
    const b = buildGraph(connect(), keyPrefix, runsB);

    const first = await a.graph.invoke({ input: "q1" });
    expect(first).toEqual({ input: "q1", answer: "answer to q1", steps: ["expensive", "cheap"] });
    expect(runsA).toEqual({ expensive: 1, cheap: 1 });

    // Same input: the cached node's writes come from Redis; the uncached node runs.
    expect(await a.graph.invoke({ input: "q1" })).toEqual(first);
    expect(runsA).toEqual({ expensive: 1, cheap: 2 });

    // Another instance with its own client sees the same cache.
    expect(await b.graph.invoke({ input: "q1" })).toEqual(first);
    expect(runsB).toEqual({ expensive: 0, cheap: 1 });

    // A different input is a different cache key.
    await b.graph.invoke({ input: "q2" });
    expect(runsB).toEqual({ expensive: 1, cheap: 2 });

    // The policy's TTL (120 s) reached Redis as a server-side expiry on the entry.
    const registry = await client.zrange(cacheRegistryKey(keyPrefix), "0", "-1");
    expect(registry).toHaveLength(1);
    const namespace = JSON.parse(registry[0] as string) as string[];
    expect(namespace.at(-1)).toBe("expensive");
    const scores: number[] = [];
    for (let bucket = 0; bucket < 16; bucket++) {
      const flat = await client.zrange(cacheBucketKeys(keyPrefix, namespace, bucket).expiry, "0", "-1", "WITHSCORES");
      for (let i = 1; i < flat.length; i += 2) scores.push(Number(flat[i]));
    }
    expect(scores).toHaveLength(2); // q1 and q2
    const [seconds] = (await client.time()) as [number, number];
    for (const score of scores) {
      expect(score - Number(seconds) * 1000).toBeGreaterThan(60_000);
      expect(score - Number(seconds) * 1000).toBeLessThanOrEqual(121_000);
    }

    await a.graph.clearCache();
    await b.graph.invoke({ input: "q1" });
    expect(runsB).toEqual({ expensive: 2, cheap: 3 });
  });
});
