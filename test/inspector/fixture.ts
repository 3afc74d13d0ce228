/**
 * Data for the inspector tests, written by real graphs through the public API: a chat thread with messages over two
 * turns, a fork from an old checkpoint, a guarded node (lock + fence) writing a store item, a crashed leased run,
 * and store items written by two agents.
 */
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import {
  Annotation,
  DeltaChannel,
  END,
  MessagesAnnotation,
  messagesDeltaReducer,
  START,
  StateGraph,
} from "@langchain/langgraph";
import type { RedisClient } from "../../src/client.js";
import { currentFence } from "../../src/guard/fence.js";
import { guarded } from "../../src/guard/guarded.js";
import { RedisSaver } from "../../src/saver/redis-saver.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { crashRun } from "../recovery/helpers.js";

export const ChatState = Annotation.Root({
  ...MessagesAnnotation.spec,
  orderId: Annotation<string>(),
  charged: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
});

export interface Fixture {
  readonly chatThread: string;
  readonly forkThread: string;
  readonly crashedThread: string;
  readonly namespace: string[];
  readonly key: string;
}

/** The chat graph: agent (answers) -> payment (guarded by a lock on the order, writes the order in the store). */
export function chatGraph(client: RedisClient, keyPrefix: string, onPayment?: () => Promise<void>) {
  const saver = new RedisSaver({ client, keyPrefix });
  const store = new RedisStore({ client, keyPrefix });
  const agent = async (state: typeof ChatState.State) => {
    const last = state.messages.at(-1);
    return { messages: [new AIMessage(`charging order ${state.orderId} for "${String(last?.content)}"`)] };
  };
  const payment = guarded(
    async (state: typeof ChatState.State, config) => {
      await onPayment?.();
      const fence = currentFence(config, `order:${state.orderId}`);
      await store.put(
        ["orders", state.orderId],
        "status",
        { charged: state.charged + 1 },
        { writer: "payment-agent", fence },
      );
      return { charged: 1 };
    },
    { client, keyPrefix, key: (state) => `order:${state.orderId}`, lockTimeoutMs: 30_000 },
  );
  return new StateGraph(ChatState)
    .addNode("agent", agent)
    .addNode("payment", payment)
    .addEdge(START, "agent")
    .addEdge("agent", "payment")
    .addEdge("payment", END)
    .compile({ checkpointer: saver });
}

export async function writeFixture(
  client: RedisClient,
  keyPrefix: string,
  connect: () => RedisClient,
): Promise<Fixture> {
  const fixture: Fixture = {
    chatThread: "chat-1",
    forkThread: "chat-fork",
    crashedThread: "crash-1",
    namespace: ["orders", "o-1"],
    key: "status",
  };
  const graph = chatGraph(client, keyPrefix);
  const chat = { configurable: { thread_id: fixture.chatThread } };
  await graph.invoke({ messages: [new HumanMessage("first order")], orderId: "o-1" }, chat);
  await graph.invoke({ messages: [new HumanMessage("second order")] }, chat);

  // A fork: rewind to the checkpoint after the first turn's agent step and run on from an edited state.
  const fork = { configurable: { thread_id: fixture.forkThread } };
  await graph.invoke({ messages: [new HumanMessage("forked order")], orderId: "o-2" }, fork);
  const history = [];
  for await (const snapshot of graph.getStateHistory(fork)) history.push(snapshot);
  const afterAgent = history.find((s) => s.next.includes("payment"));
  if (!afterAgent) throw new Error("fixture: no checkpoint before the payment step");
  const edited = await graph.updateState(afterAgent.config, { messages: [new HumanMessage("edited by an operator")] });
  await graph.invoke(null, edited);

  const store = new RedisStore({ client, keyPrefix });
  await store.put(fixture.namespace, "note", { text: "checked by fraud" }, { writer: "fraud-agent" });

  await crashRun({
    checkpointer: new RedisSaver({ client, keyPrefix }),
    keyPrefix,
    name: "crashy",
    threadId: fixture.crashedThread,
    leaseMs: 300,
    owner: "worker-7",
    connect,
  });
  return fixture;
}

/**
 * A graph with two DeltaChannels snapshotting every 3 updates: messages (LangGraph's messages reducer, which the
 * inspector rebuilds) and a log of numbers with a reducer of its own (which it cannot: it shows the snapshot and the
 * writes since).
 */
export function deltaChannelGraph(client: RedisClient, keyPrefix: string) {
  const State = Annotation.Root({
    messages: new DeltaChannel<BaseMessage[], BaseMessage[]>(
      messagesDeltaReducer as (state: BaseMessage[], writes: BaseMessage[][]) => BaseMessage[],
      { snapshotFrequency: 3 },
    ),
    log: new DeltaChannel<number[], number[]>((state, writes) => [...state, ...writes.flat()], {
      snapshotFrequency: 3,
    }),
  });
  return new StateGraph(State)
    .addNode("reply", (state) => ({
      messages: [new AIMessage({ content: `answer ${state.messages.length}`, id: `a${state.messages.length}` })],
      log: [state.messages.length],
    }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer: new RedisSaver({ client, keyPrefix }) });
}

/** Four turns of deltaChannelGraph on `threadId`: snapshots at some checkpoints, histories at the others. */
export async function writeDeltaChannelThread(client: RedisClient, keyPrefix: string, threadId: string) {
  const graph = deltaChannelGraph(client, keyPrefix);
  for (let turn = 0; turn < 4; turn++) {
    const question = new HumanMessage({ content: `question ${turn}`, id: `q${turn}` });
    await graph.invoke({ messages: [question] }, { configurable: { thread_id: threadId } });
  }
  return graph;
}
