/**
 * The fraud agent: gathers signals on an order, scores it with the risk model, stores its verdict on the order,
 * then notes the review in the customer's profile. The verdict node is the agent's critical section on the order
 * (it reads the order and writes to it); the profile is shared by every order of the customer, so it is updated
 * with compare-and-set rather than under the order's lock.
 *
 *   gather -> assess -> verdict -> profile -> done
 */
import { Annotation, END, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import type { OrderEvent } from "./orders.js";
import { type AgentRuntime, taskWriteId } from "./runtime.js";
import { type CustomerDoc, isCharged } from "./shared-state.js";
import { type DeviceSignals, deviceSignals, FLAG_THRESHOLD, riskModel } from "./tools.js";

const FraudState = Annotation.Root({
  event: Annotation<OrderEvent>,
  customer: Annotation<CustomerDoc | undefined>,
  signals: Annotation<DeviceSignals | undefined>,
  score: Annotation<number | undefined>,
  flagged: Annotation<boolean | undefined>,
});

type State = typeof FraudState.State;

function threadOf(config: LangGraphRunnableConfig): string {
  return String(config.configurable?.thread_id);
}

export function fraudGraph(rt: AgentRuntime) {
  const { recorder, worker } = rt;
  const step = (config: LangGraphRunnableConfig, node: string) =>
    recorder.record("step", { thread: threadOf(config), node, worker });

  async function gather(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    await recorder.record("runStart", { thread: threadOf(config), agent: "fraud", orderId: order.orderId, worker });
    const [customer, found] = await Promise.all([
      rt.state.readCustomer(order.customerId),
      deviceSignals(order, config.signal),
    ]);
    await step(config, "gather");
    return { customer, signals: found };
  }

  async function assess(state: State, config: LangGraphRunnableConfig) {
    if (!state.signals) throw new Error("assess ran before gather");
    const value = await riskModel(state.event.order, state.signals, config.signal);
    await step(config, "assess");
    return { score: value };
  }

  async function verdict(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    const thread = threadOf(config);
    const startUs = await recorder.now();
    const doc = await rt.state.readOrder(order);
    const flagged = (state.score ?? 0) >= FLAG_THRESHOLD;
    const writeId = taskWriteId(config, "verdict");
    await rt.state.appendToOrder(
      doc,
      { writeId, kind: flagged ? "flagged" : "cleared", worker },
      rt.writeGuard(config, order.orderId),
    );
    await recorder.record("write", { writeId, doc: `order:${order.orderId}`, worker });
    await recorder.record("verdict", { orderId: order.orderId, thread, worker, flagged, afterCharge: isCharged(doc) });
    await recorder.record("cs", { orderId: order.orderId, thread, node: "verdict", worker, startUs });
    await step(config, "verdict");
    return { flagged };
  }

  async function profile(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    // The copy read in `gather` is what a read-modify-write without compare-and-set writes back.
    const copy = state.customer ?? (await rt.state.readCustomer(order.customerId));
    const writeId = taskWriteId(config, "profile");
    await rt.state.appendToCustomer(copy, { writeId, orderId: order.orderId, kind: "reviewed" });
    await recorder.record("write", { writeId, doc: `customer:${order.customerId}`, worker });
    await step(config, "profile");
    return {};
  }

  async function done(state: State, config: LangGraphRunnableConfig) {
    const thread = threadOf(config);
    await recorder.record("runEnd", { thread, agent: "fraud", orderId: state.event.order.orderId, worker });
    await recorder.markDone(thread);
    return {};
  }

  return new StateGraph(FraudState)
    .addNode("gather", gather)
    .addNode("assess", assess)
    .addNode("verdict", rt.critical(verdict))
    .addNode("profile", profile)
    .addNode("done", done)
    .addEdge(START, "gather")
    .addEdge("gather", "assess")
    .addEdge("assess", "verdict")
    .addEdge("verdict", "profile")
    .addEdge("profile", "done")
    .addEdge("done", END)
    .compile({ checkpointer: rt.checkpointer, name: "fraud-agent" });
}
