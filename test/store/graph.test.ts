/**
 * Inside LangGraph: two separately compiled graphs, run on different threads (and here through two store instances
 * on two connections, as two processes would), share memory through `compile({ store })`. LangGraph wraps the
 * store in AsyncBatchedStore, so every read and write through `config.store` goes through batch() with no per-call
 * context: those writes are recorded as the store's `agentId`. A node that calls the RedisStore directly (for
 * update(), fencing or a writer of its own) runs inside the node's config, whose `configurable.agent_id` is used.
 */
import { Annotation, type LangGraphRunnableConfig, MemorySaver, StateGraph } from "@langchain/langgraph";
import { targets, testPrefix } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

const State = Annotation.Root({
  topic: Annotation<string>,
  notes: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
});

describe.each(targets)("graphs sharing a RedisStore on $name", ({ connect }) => {
  it("a researcher graph writes facts that a writer graph on another thread reads", async () => {
    const keyPrefix = testPrefix("graph");
    const researcherStore = newStore(connect(), { keyPrefix, agentId: "researcher" });
    const writerStore = newStore(connect(), { keyPrefix, agentId: "writer" });

    const researcher = new StateGraph(State)
      .addNode("research", async (state: typeof State.State, config: LangGraphRunnableConfig) => {
        const store = config.store;
        if (!store) throw new Error("no store in config");
        await Promise.all([
          store.put(["facts", state.topic], "origin", { text: "Redis began in 2009", confidence: 0.9 }),
          store.put(["facts", state.topic], "model", { text: "single-threaded core", confidence: 0.7 }),
        ]);
        return { notes: ["researched"] };
      })
      .addEdge("__start__", "research")
      .compile({ checkpointer: new MemorySaver(), store: researcherStore });

    const writer = new StateGraph(State)
      .addNode("write", async (state: typeof State.State, config: LangGraphRunnableConfig) => {
        const store = config.store;
        if (!store) throw new Error("no store in config");
        const facts = await store.search(["facts", state.topic], { filter: { confidence: { $gte: 0.8 } } });
        const summary = facts.map((f) => String(f.value.text)).join("; ");
        await store.put(["summaries"], state.topic, { summary, sources: facts.map((f) => f.key) });
        // A direct call: compare-and-set, recorded with the run's agent id.
        await writerStore.update(["stats"], "summaries", (current) => ({ count: Number(current?.count ?? 0) + 1 }));
        return { notes: [summary] };
      })
      .addEdge("__start__", "write")
      .compile({ checkpointer: new MemorySaver(), store: writerStore });

    await researcher.invoke({ topic: "redis" }, { configurable: { thread_id: "t-research" } });
    const result = await writer.invoke(
      { topic: "redis" },
      { configurable: { thread_id: "t-write", agent_id: "writer-7" } },
    );

    expect(result.notes).toEqual(["Redis began in 2009"]);
    expect((await writerStore.get(["summaries"], "redis"))?.value).toEqual({
      summary: "Redis began in 2009",
      sources: ["origin"],
    });
    // The history says which agent wrote what.
    expect((await researcherStore.history(["facts", "redis"], "origin"))[0]?.writer).toBe("researcher");
    expect((await researcherStore.history(["summaries"], "redis"))[0]?.writer).toBe("writer");
    expect(await researcherStore.history(["stats"], "summaries")).toMatchObject([{ writer: "writer-7", version: 1 }]);
    expect(await writerStore.listNamespaces({ prefix: ["facts"] })).toEqual([["facts", "redis"]]);
  });
});
