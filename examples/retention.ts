// Keep only the newest checkpoints of each thread (retention), trim existing threads (prune), exempt one (pin).
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/retention.ts
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { RedisSaver } from "langgraph-redis";

const State = Annotation.Root({
  messages: Annotation<string[]>({ reducer: (all, added) => all.concat(added), default: () => [] }),
});
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
// Threads written through this saver keep their newest 5 checkpoints per namespace (and what those need).
const checkpointer = RedisSaver.fromUrl(url, { keyPrefix: "retention-example", retention: { keepLast: 5 } });
// A saver without the option, as an application written before retention was on.
const everything = RedisSaver.fromUrl(url, { keyPrefix: "retention-example" });
const graph = (saver: RedisSaver) =>
  new StateGraph(State)
    .addNode("agent", (state) => ({ messages: [`agent saw ${state.messages.length} message(s)`] }))
    .addEdge(START, "agent")
    .addEdge("agent", END)
    .compile({ checkpointer: saver });

const count = async (saver: RedisSaver, threadId: string) => {
  let n = 0;
  for await (const _ of saver.list({ configurable: { thread_id: threadId } })) n++;
  return n;
};

const run = Date.now();
const [trimmed, old, audited] = [`trimmed-${run}`, `old-${run}`, `audited-${run}`];
try {
  for (let turn = 0; turn < 20; turn++) {
    await graph(checkpointer).invoke({ messages: [`question ${turn}`] }, { configurable: { thread_id: trimmed } });
    await graph(everything).invoke({ messages: [`question ${turn}`] }, { configurable: { thread_id: old } });
    await graph(everything).invoke({ messages: [`question ${turn}`] }, { configurable: { thread_id: audited } });
  }
  console.log(`with retention: ${await count(checkpointer, trimmed)} checkpoints kept of 60 written`);

  // Existing threads: trim to the newest 3; a pinned thread is left alone.
  await checkpointer.pin(audited);
  const pruned = await checkpointer.prune([old, audited], { keepLast: 3 });
  console.log(`prune removed ${pruned.checkpoints} checkpoints and ${pruned.blobs} values; pinned: ${pruned.pinned}`);
  console.log(`${old}: ${await count(checkpointer, old)} left; ${audited}: ${await count(checkpointer, audited)} left`);

  // The latest state is intact.
  const state = await graph(checkpointer).getState({ configurable: { thread_id: old } });
  console.log(state.values.messages.length); // 40

  for (const thread of [trimmed, old, audited]) await checkpointer.deleteThread(thread);
} finally {
  await checkpointer.close();
  await everything.close();
}
