/** Type-level tests: a guarded node keeps its node's input and output types and goes into addNode as is. */
import { Annotation, Command, type LangGraphRunnableConfig, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { type ConflictDecision, currentFence, type Fence, type GuardedNode, guarded } from "langgraph-redis";
import { newRedis } from "../helpers/redis.js";

const Order = Annotation.Root({ orderId: Annotation<string>, status: Annotation<string> });
type OrderState = typeof Order.State;
type OrderUpdate = typeof Order.Update;

describe("guarded() types", () => {
  it("keeps the state type in and the update type out", () => {
    const client = newRedis();
    const pay = async (state: OrderState): Promise<OrderUpdate> => ({ status: `paid ${state.orderId}` });
    const node = guarded(pay, { client, key: (state) => `order:${state.orderId}` });

    expectTypeOf(node).toEqualTypeOf<GuardedNode<OrderState, OrderUpdate>>();
    expectTypeOf(node).parameter(0).toEqualTypeOf<OrderState>();
    expectTypeOf(node).parameter(1).toEqualTypeOf<LangGraphRunnableConfig>();
    expectTypeOf(node).returns.toEqualTypeOf<Promise<OrderUpdate>>();
  });

  it("keeps a Command in the output, infers a sync node's output, and types the key function's state", () => {
    const client = newRedis();
    const route = (state: OrderState): Command | OrderUpdate =>
      state.status === "flagged" ? new Command({ goto: "review" }) : { status: "approved" };
    const node = guarded(route, {
      client,
      key: (state, config) => {
        expectTypeOf(state).toEqualTypeOf<OrderState>();
        expectTypeOf(config).toEqualTypeOf<LangGraphRunnableConfig>();
        return [`order:${state.orderId}`];
      },
      onConflict: (ctx) => {
        expectTypeOf(ctx.state).toEqualTypeOf<OrderState>();
        return { action: "skip", result: new Command({ goto: "review" }) };
      },
    });
    expectTypeOf(node).returns.resolves.toEqualTypeOf<Command | OrderUpdate>();
  });

  it("rejects options that do not fit the node", () => {
    const client = newRedis();
    const pay = async (state: OrderState): Promise<OrderUpdate> => ({ status: state.status });
    guarded(pay, {
      client,
      // @ts-expect-error: the key function sees the node's state, which has no `customerId`
      key: (state) => state.customerId,
    });
    guarded(pay, {
      client,
      // @ts-expect-error: a skip result must be the node's output type
      onConflict: () => ({ action: "skip", result: 42 }),
    });
    expectTypeOf<ConflictDecision<OrderUpdate>>().toMatchTypeOf<{ action: "retry" | "skip" | "fail" }>();
  });

  it("is accepted by StateGraph.addNode, as is a guarded ToolNode", () => {
    const client = newRedis();
    const pay = async (state: OrderState, config: LangGraphRunnableConfig): Promise<OrderUpdate> => {
      expectTypeOf(currentFence(config)).toEqualTypeOf<Fence | readonly Fence[]>();
      return { status: state.status };
    };
    const tools = guarded(new ToolNode([]), { client, key: "tools" });
    const graph = new StateGraph(Order)
      .addNode("pay", guarded(pay, { client, key: (s) => `order:${s.orderId}` }))
      .addNode("tools", tools)
      .addEdge("__start__", "pay")
      .addEdge("pay", "tools")
      .compile();
    expectTypeOf(graph.invoke).toBeFunction();
  });
});
