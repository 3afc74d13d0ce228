/**
 * A one-node chat graph whose messages are a DeltaChannel (a snapshot every `snapshotFrequency` updates): each invoke
 * appends the input and one reply, so a thread's state is rebuilt from its ancestors' writes.
 */
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import {
  Annotation,
  type BaseCheckpointSaver,
  DeltaChannel,
  END,
  messagesDeltaReducer,
  START,
  StateGraph,
} from "@langchain/langgraph";

export function deltaReplyGraph(checkpointer: BaseCheckpointSaver, snapshotFrequency: number) {
  const State = Annotation.Root({
    messages: new DeltaChannel<BaseMessage[], BaseMessage[]>(
      messagesDeltaReducer as (state: BaseMessage[], writes: BaseMessage[][]) => BaseMessage[],
      { snapshotFrequency },
    ),
  });
  return new StateGraph(State)
    .addNode("reply", (state) => ({
      messages: [new AIMessage({ content: `reply ${state.messages.length}`, id: `a${state.messages.length}` })],
    }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer });
}
