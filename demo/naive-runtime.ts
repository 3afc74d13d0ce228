/**
 * The baseline without the shared memory layer: each process checkpoints into its own MemorySaver (gone when the
 * process dies), no node takes a lock, and shared documents are read and written back with plain GET/SET.
 */
import { MemorySaver } from "@langchain/langgraph";
import type { RedisClient } from "langgraph-redis";
import { NaiveState } from "./naive-state.js";
import { PaymentProvider } from "./provider.js";
import type { Recorder } from "./recording.js";
import { type AgentRuntime, timePuts } from "./runtime.js";

export function naiveRuntime(client: RedisClient, recorder: Recorder): AgentRuntime {
  return {
    setup: "naive",
    worker: recorder.worker,
    checkpointer: timePuts(new MemorySaver(), recorder),
    state: new NaiveState(client, recorder.keys),
    recorder,
    provider: new PaymentProvider(client, recorder.keys),
    critical: (node) => node,
    writeGuard: () => ({}),
    lease: (graph) => graph,
    async run(graph, input, threadId) {
      await graph.invoke(input, { configurable: { thread_id: threadId }, durability: "sync" });
    },
    async resume(graph, threadId) {
      await graph.invoke(null, { configurable: { thread_id: threadId }, durability: "sync" });
    },
    async close() {},
  };
}
