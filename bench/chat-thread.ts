/**
 * The chat thread of the memory targets: a plain MessagesAnnotation graph, each turn a question of about 200
 * characters and an answer of about 400, both random words (text that compresses poorly, as real prose does more
 * than "aaaa" would suggest). Three checkpoints per turn. Shared by the bench's chat-memory section and the
 * equivalence tests' sizing.
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
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";

/** Deterministic pseudo-random numbers (mulberry32), so every run stores the same bytes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** About `chars` characters of random lowercase words (2 to 9 letters) separated by spaces. */
export function randomWords(random: () => number, chars: number): string {
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    const size = 2 + Math.floor(random() * 8);
    let word = "";
    for (let i = 0; i < size; i++) word += LETTERS[Math.floor(random() * LETTERS.length)];
    words.push(word);
    length += size + 1;
  }
  return words.join(" ").slice(0, chars);
}

export const QUESTION_CHARS = 200;
export const ANSWER_CHARS = 400;

/** Runs `turns` turns of the chat on `threadId` with `checkpointer`. */
export async function runChat(checkpointer: BaseCheckpointSaver, threadId: string, turns: number, seed = 1) {
  const random = seededRandom(seed);
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("reply", () => ({ messages: [new AIMessage(randomWords(random, ANSWER_CHARS))] }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer });
  const config = { configurable: { thread_id: threadId } };
  for (let turn = 0; turn < turns; turn++) {
    await graph.invoke({ messages: [new HumanMessage(randomWords(random, QUESTION_CHARS))] }, config);
  }
  return graph;
}

/** A compiled chat graph, typed only as far as the bench sections use it. */
export type Chat = {
  invoke(input: unknown, config: unknown): Promise<unknown>;
  getState(config: unknown): Promise<unknown>;
  getStateHistory(config: unknown): AsyncIterableIterator<unknown>;
};

/**
 * A one-node chat graph whose node returns `reply(messages so far)` each turn, over a plain MessagesAnnotation
 * ("plain") or a DeltaChannel of messages ("delta"): the chat shapes the retention and DeltaChannel sections weigh.
 * `snapshotFrequency` is the DeltaChannel's (LangGraph's default, 100, when not given).
 */
export function replyGraph(
  saver: BaseCheckpointSaver,
  channel: "plain" | "delta",
  reply: (messages: BaseMessage[]) => BaseMessage[],
  snapshotFrequency?: number,
): Chat {
  const State =
    channel === "plain"
      ? MessagesAnnotation
      : Annotation.Root({
          messages: new DeltaChannel<BaseMessage[], BaseMessage[]>(
            messagesDeltaReducer as (state: BaseMessage[], writes: BaseMessage[][]) => BaseMessage[],
            snapshotFrequency === undefined ? undefined : { snapshotFrequency },
          ),
        });
  return new StateGraph(State as typeof MessagesAnnotation)
    .addNode("reply", (state) => ({ messages: reply(state.messages) }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer: saver }) as unknown as Chat;
}
