/**
 * The payment agent: prepares the charge (customer record, fees), then charges the card unless the order is
 * flagged or already paid, then sends the receipt. The charge node is the agent's critical section on the order:
 * it reads the order, decides, calls the card provider and writes the result.
 *
 *   prepare -> charge -> receipt -> done
 */
import { Annotation, END, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import type { OrderEvent } from "./orders.js";
import { type AgentRuntime, taskWriteId } from "./runtime.js";
import { type CustomerDoc, isCharged, isFlagged } from "./shared-state.js";
import { customerLookup, sendReceipt } from "./tools.js";

const PaymentState = Annotation.Root({
  event: Annotation<OrderEvent>,
  customer: Annotation<CustomerDoc | undefined>,
  amountCents: Annotation<number | undefined>,
  decision: Annotation<"charged" | "declined" | "already-charged" | undefined>,
  chargeId: Annotation<string | undefined>,
});

type State = typeof PaymentState.State;

function threadOf(config: LangGraphRunnableConfig): string {
  return String(config.configurable?.thread_id);
}

export function paymentGraph(rt: AgentRuntime) {
  const { recorder, worker } = rt;
  const step = (config: LangGraphRunnableConfig, node: string) =>
    recorder.record("step", { thread: threadOf(config), node, worker });

  async function prepare(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    await recorder.record("runStart", { thread: threadOf(config), agent: "payment", orderId: order.orderId, worker });
    const [customer, record] = await Promise.all([
      rt.state.readCustomer(order.customerId),
      customerLookup(order, config.signal),
    ]);
    await step(config, "prepare");
    return { customer, amountCents: Math.round(order.amountCents * (1 + record.feeBps / 10_000)) };
  }

  async function charge(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    const thread = threadOf(config);
    const startUs = await recorder.now();
    const doc = await rt.state.readOrder(order);
    let update: Partial<State>;
    if (isCharged(doc)) {
      await recorder.record("duplicateSkipped", { orderId: order.orderId, thread, worker });
      update = { decision: "already-charged" };
    } else if (isFlagged(doc)) {
      const writeId = taskWriteId(config, "decline");
      await rt.state.appendToOrder(doc, { writeId, kind: "declined", worker }, rt.writeGuard(config));
      await recorder.record("write", { writeId, doc: `order:${order.orderId}`, worker });
      update = { decision: "declined" };
    } else {
      const amountCents = state.amountCents ?? order.amountCents;
      // The task id survives a crash and resume, so a resumed charge replays the same provider request.
      const { chargeId } = await rt.provider.chargeCard(
        order,
        amountCents,
        taskWriteId(config, "card"),
        worker,
        config.signal,
      );
      const writeId = taskWriteId(config, "charge");
      await rt.state.appendToOrder(doc, { writeId, kind: "charged", worker, chargeId }, rt.writeGuard(config));
      await recorder.record("write", { writeId, doc: `order:${order.orderId}`, worker });
      await recorder.record("approval", { orderId: order.orderId, thread, worker, chargeId });
      if (state.customer) {
        const profileWriteId = taskWriteId(config, "profile");
        await rt.state.appendToCustomer(state.customer, {
          writeId: profileWriteId,
          orderId: order.orderId,
          kind: "charged",
          amountCents,
        });
        await recorder.record("write", { writeId: profileWriteId, doc: `customer:${order.customerId}`, worker });
      }
      update = { decision: "charged", chargeId };
    }
    await recorder.record("cs", { orderId: order.orderId, thread, node: "charge", worker, startUs });
    await step(config, "charge");
    return update;
  }

  async function receipt(state: State, config: LangGraphRunnableConfig) {
    if (state.decision === "charged") await sendReceipt(state.event.order, config.signal);
    await step(config, "receipt");
    return {};
  }

  async function done(state: State, config: LangGraphRunnableConfig) {
    const thread = threadOf(config);
    await recorder.record("runEnd", { thread, agent: "payment", orderId: state.event.order.orderId, worker });
    await recorder.markDone(thread);
    return {};
  }

  return new StateGraph(PaymentState)
    .addNode("prepare", prepare)
    .addNode("charge", rt.critical("charge", charge))
    .addNode("receipt", receipt)
    .addNode("done", done)
    .addEdge(START, "prepare")
    .addEdge("prepare", "charge")
    .addEdge("charge", "receipt")
    .addEdge("receipt", "done")
    .addEdge("done", END)
    .compile({ checkpointer: rt.checkpointer, name: "payment-agent" });
}
