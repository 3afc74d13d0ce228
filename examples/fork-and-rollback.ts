// Fork a conversation with copyThread, and roll back a run with deleteForRuns.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/fork-and-rollback.ts
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { RedisSaver } from "langgraph-redis";

const State = Annotation.Root({
  messages: Annotation<string[]>({ reducer: (all, added) => all.concat(added), default: () => [] }),
});
const checkpointer = RedisSaver.fromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  keyPrefix: "fork-example",
  ttl: { defaultTtlMs: 60 * 60 * 1000 },
});
const app = new StateGraph(State)
  .addNode("agent", (state) => ({ messages: [`agent saw ${state.messages.length} message(s)`] }))
  .addEdge(START, "agent")
  .addEdge("agent", END)
  .compile({ checkpointer });

const thread = `conversation-${Date.now()}`;
try {
  // Each run names itself in the config's metadata: deleteForRuns finds its checkpoints by that run_id.
  await app.invoke({ messages: ["hello"] }, { configurable: { thread_id: thread }, metadata: { run_id: "run-1" } });
  await app.invoke(
    { messages: ["a bad idea"] },
    { configurable: { thread_id: thread }, metadata: { run_id: "run-2" } },
  );

  // Fork: the whole history, every namespace and pending write, under a new thread id (absent or complete).
  const fork = `${thread}-fork`;
  const { checkpoints } = await checkpointer.copyThread(thread, fork);
  console.log(`copied ${checkpoints} checkpoints into ${fork}`);

  // Roll back run-2 (in the original and in the fork): both threads are again as run-1 left them.
  const removed = await checkpointer.deleteForRuns(["run-2"]);
  console.log(`removed ${removed.checkpoints} checkpoints and ${removed.writes} pending writes of run-2`);
  const state = await app.getState({ configurable: { thread_id: thread } });
  console.log(state.values.messages); // [ 'hello', 'agent saw 1 message(s)' ]

  await checkpointer.deleteThread(thread);
  await checkpointer.deleteThread(fork);
} finally {
  await checkpointer.close();
}
