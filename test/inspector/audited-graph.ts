/**
 * The audited order graph of the timeline tests: check -> payment, where payment is a guarded() node on the order's
 * lock that writes the order's status with its fence; the checkpointer, the store, the lock and the run lease all
 * write audit events under the agent's id. Used in the test
 * process and by the worker program the tests kill.
 */
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import type { RedisClient } from "../../src/client.js";
import { currentFence } from "../../src/guard/fence.js";
import { guarded } from "../../src/guard/guarded.js";
import type { GuardEvents } from "../../src/guard/options.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { RedisSaver } from "../../src/saver/redis-saver.js";
import { RedisStore } from "../../src/store/redis-store.js";

export const OrderState = Annotation.Root({
  orderId: Annotation<string>(),
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export const ORDER_GRAPH = "orders";

export function orderGraph(options: {
  client: RedisClient;
  keyPrefix: string;
  agentId: string;
  /** Runs inside the payment node, with the order's lock held (the signal aborts if the lock is lost). */
  onPayment?: (orderId: string, signal: AbortSignal | undefined) => Promise<void>;
  events?: GuardEvents;
  lockTimeoutMs?: number;
  leaseMs?: number;
}) {
  const { client, keyPrefix, agentId } = options;
  const audit = { agentId };
  const store = new RedisStore({ client, keyPrefix, audit });
  const payment = guarded(
    async (state: typeof OrderState.State, config) => {
      await options.onPayment?.(state.orderId, config.signal);
      const fence = currentFence(config, `order:${state.orderId}`);
      await store.put(["orders", state.orderId], "status", { paidBy: agentId }, { writer: agentId, fence });
      return { steps: [`paid by ${agentId}`] };
    },
    {
      client,
      keyPrefix,
      key: (state) => `order:${state.orderId}`,
      lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
      audit,
      ...(options.events ? { events: options.events } : {}),
    },
  );
  const graph = new StateGraph(OrderState)
    .addNode("check", async () => ({ steps: ["checked"] }))
    .addNode("payment", payment)
    .addEdge(START, "check")
    .addEdge("check", "payment")
    .addEdge("payment", END)
    .compile({ checkpointer: new RedisSaver({ client, keyPrefix, audit }) });
  return withRunLease(graph, {
    client,
    keyPrefix,
    name: ORDER_GRAPH,
    owner: agentId,
    leaseMs: options.leaseMs ?? 5000,
    audit,
  });
}
