/**
 * The payment agent: prepares the charge (customer record, fees), charges the card unless the order is flagged or
 * already paid, adds the charge to the customer's profile and sends the receipt. The charge node is the agent's
 * critical section on the order: it reads the order, decides, calls the card provider and writes the result.
 *
 *   prepare -> charge -> profile -> receipt -> done
 */
import { Annotation, END, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import type { OrderEvent } from "./orders.js";
import { type AgentRuntime, taskWriteId } from "./runtime.js";
import { type CustomerDoc, isCharged, isFlagged, type OrderEntry, pendingCharge, withEntry } from "./shared-state.js";
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
      await rt.state.appendToOrder(doc, { writeId, kind: "declined", worker }, rt.writeGuard(config, order.orderId));
      await recorder.record("write", { writeId, doc: `order:${order.orderId}`, worker });
      update = { decision: "declined" };
    } else {
      const amountCents = state.amountCents ?? order.amountCents;
      // Write-ahead: the idempotency key goes on the order before the card is charged. Whoever acts on the order
      // next (this run resumed, or another run after this process died mid-charge) finds it and replays the same
      // provider request instead of charging again.
      let current = doc;
      const pending = pendingCharge(doc);
      const idempotencyKey = pending?.idempotencyKey ?? taskWriteId(config, "card");
      if (!pending) {
        const intent: OrderEntry = { writeId: taskWriteId(config, "intent"), kind: "charging", worker, idempotencyKey };
        await rt.state.appendToOrder(doc, intent, rt.writeGuard(config, order.orderId));
        await recorder.record("write", { writeId: intent.writeId, doc: `order:${order.orderId}`, worker });
        current = withEntry(doc, intent);
      }
      const { chargeId } = await rt.provider.chargeCard(order, amountCents, idempotencyKey, worker, config.signal);
      const writeId = taskWriteId(config, "charge");
      await rt.state.appendToOrder(
        current,
        { writeId, kind: "charged", worker, chargeId },
        rt.writeGuard(config, order.orderId),
      );
      await recorder.record("write", { writeId, doc: `order:${order.orderId}`, worker });
      await recorder.record("approval", { orderId: order.orderId, thread, worker, chargeId });
      update = { decision: "charged", chargeId };
    }
    await recorder.record("cs", { orderId: order.orderId, thread, node: "charge", worker, startUs });
    await step(config, "charge");
    return update;
  }

  async function profile(state: State, config: LangGraphRunnableConfig) {
    const { order } = state.event;
    if (state.decision === "charged") {
      // The copy read in `prepare` is what a read-modify-write without compare-and-set writes back.
      const copy = state.customer ?? (await rt.state.readCustomer(order.customerId));
      const writeId = taskWriteId(config, "profile");
      const amountCents = state.amountCents ?? order.amountCents;
      await rt.state.appendToCustomer(copy, { writeId, orderId: order.orderId, kind: "charged", amountCents });
      await recorder.record("write", { writeId, doc: `customer:${order.customerId}`, worker });
    }
    await step(config, "profile");
    return {};
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
    .addNode("charge", rt.critical(charge))
    .addNode("profile", profile)
    .addNode("receipt", receipt)
    .addNode("done", done)
    .addEdge(START, "prepare")
    .addEdge("prepare", "charge")
    .addEdge("charge", "profile")
    .addEdge("profile", "receipt")
    .addEdge("receipt", "done")
    .addEdge("done", END)
    .compile({ checkpointer: rt.checkpointer, name: "payment-agent" });
}
