// Threads and runs across processes: the thread registry (status, metadata search), a second message on a busy
// thread under the "interrupt" strategy, and cancelRun. Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/threads-and-runs.ts
import { setTimeout as sleep } from "node:timers/promises";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { cancelRun, clientFromUrl, RedisSaver, RunCancelledError, withRunLease } from "langgraph-redis";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const keyPrefix = `example-runs-${process.pid}`;
const saver = new RedisSaver({ client, keyPrefix, threads: { indexedMetadata: ["user_id"] } });
const State = Annotation.Root({ said: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
const graph = new StateGraph(State)
  .addNode("think", async (state, config) => {
    await sleep(state.said.at(-1) === "slow" ? 5_000 : 10, undefined, { signal: config.signal });
    return { said: ["ok"] };
  })
  .addEdge(START, "think")
  .addEdge("think", END)
  .compile({ checkpointer: saver, name: "chat" });
// Each process wraps the graph the same way; heartbeatMs bounds how fast a cancel request is seen.
const app = withRunLease(graph, {
  client,
  keyPrefix,
  leaseMs: 3_000,
  heartbeatMs: 200,
  multitaskStrategy: "interrupt",
});

for (const [threadId, user] of [
  ["t1", "alice"],
  ["t2", "bob"],
  ["t3", "alice"],
] as const) {
  await app.invoke({ said: ["hi"] }, { configurable: { thread_id: threadId }, metadata: { user_id: user } });
}
const page = await saver.threads.search({ metadata: { user_id: "alice" }, limit: 20 });
console.log("alice's threads, newest first:", page.threads.map((t) => `${t.threadId} (${t.status})`).join(", "));

// Double texting: a second message while the first is still running interrupts it (strategy "interrupt").
const first = app.invoke({ said: ["slow"] }, { configurable: { thread_id: "t1" } }).catch((e: unknown) => e);
await sleep(100);
console.log("t1 while running:", (await saver.threads.get("t1"))?.status);
await app.invoke({ said: ["again"] }, { configurable: { thread_id: "t1" } });
console.log("first run ended with", (await first) instanceof RunCancelledError ? "RunCancelledError" : await first);

// Cancel from anywhere: the run's AbortSignal fires at its next heartbeat.
const slow = app.invoke({ said: ["slow"] }, { configurable: { thread_id: "t2" } }).catch((e: unknown) => e);
await sleep(100);
console.log("cancelRun:", (await cancelRun(app, "t2", { action: "rollback" })).outcome);
await slow;
console.log(
  "t2 after rollback:",
  (await saver.threads.get("t2"))?.status,
  (await app.getState({ configurable: { thread_id: "t2" } })).values.said,
);

for (const threadId of ["t1", "t2", "t3"]) await saver.deleteThread(threadId);
client.disconnect();
