// Two agents decide at the same moment to charge the same order. The prebuilt ToolNode runs guarded on the orders
// its tool calls name, so one charges the card and the other finds it already charged: never both.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/guarded-tool-node.ts
import { AIMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { MessagesAnnotation, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { clientFromUrl, currentFence, guarded } from "langgraph-redis";
import { z } from "zod";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const orderId = `A-${Date.now()}`;

const chargeCard = tool(
  async ({ orderId }, config) => {
    const chargedKey = `example:charged:${orderId}`;
    if (await client.exists(chargedKey)) return `order ${orderId} is already charged: nothing to do`;
    await new Promise((resolve) => setTimeout(resolve, 200)); // the payment provider's API call
    const { token } = currentFence(config, `order:${orderId}`); // increases with every holder of the order's lock
    await client.set(chargedKey, `charged under fence ${token}`, "EX", 600);
    return `charged order ${orderId} (fence token ${token})`;
  },
  { name: "charge_card", description: "Charge the card of an order", schema: z.object({ orderId: z.string() }) },
);

// Stands in for a chat model that decided to call the tool.
const agent = () => ({
  messages: [new AIMessage({ content: "", tool_calls: [{ id: "call-1", name: "charge_card", args: { orderId } }] })],
});

const tools = guarded(new ToolNode([chargeCard]), {
  client,
  // Lock every order the pending tool calls touch (several are taken in sorted order: no deadlock).
  key: (state: typeof MessagesAnnotation.State) => {
    const calls = (state.messages.at(-1) as AIMessage).tool_calls ?? [];
    return calls.map((call) => `order:${call.args.orderId}`);
  },
  lockTimeoutMs: 5_000,
  events: { onAcquired: (e) => console.log(`lock ${e.lockKeys.join(", ")} taken after ${e.waitedMs} ms`) },
});

const graph = new StateGraph(MessagesAnnotation)
  .addNode("agent", agent)
  .addNode("tools", tools)
  .addEdge("__start__", "agent")
  .addEdge("agent", "tools")
  .compile();

try {
  const runs = await Promise.all([graph.invoke({ messages: [] }), graph.invoke({ messages: [] })]);
  for (const [i, run] of runs.entries()) console.log(`agent ${i + 1}: ${run.messages.at(-1)?.content}`);
} finally {
  await client.quit();
}
