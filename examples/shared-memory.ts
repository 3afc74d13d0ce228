// Two agents in separate connections share memory through RedisStore: one records facts about an order, the other
// reads them, updates the order with compare-and-set, and the history shows who wrote what, in which order.
// Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/shared-memory.ts
import { clientFromUrl, RedisStore } from "langgraph-redis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const keyPrefix = `example-${Date.now()}`;
const fraudClient = clientFromUrl(url);
const paymentClient = clientFromUrl(url);
// Both agents declare the fields their searches filter on, so a filter reads only the items it selects.
const filterIndex = { fields: { score: "number", status: "string" } } as const;
const fraud = new RedisStore({ client: fraudClient, keyPrefix, agentId: "fraud-agent", filterIndex });
const payment = new RedisStore({ client: paymentClient, keyPrefix, agentId: "payment-agent", filterIndex });

try {
  // The payment agent opens the order; the fraud agent flags it and leaves a note.
  await payment.put(["orders"], "42", { amount: 12_000, status: "pending" });
  await fraud.update(["orders"], "42", (order) => ({ ...order, status: "flagged" }));
  await fraud.put(["notes", "42"], "reason", { text: "card used in two countries within 100 ms", score: 0.97 });

  // The payment agent only charges if nobody changed the order since it read it.
  const order = await payment.getWithVersion(["orders"], "42");
  const notes = await payment.search(["notes", "42"], { filter: { score: { $gte: 0.9 } } });
  if (order?.value.status === "flagged" || notes.length > 0) {
    await payment.putIfVersion(["orders"], "42", { ...order?.value, status: "held" }, order?.version ?? null);
  }

  for (const entry of await payment.history(["orders"], "42")) {
    console.log(`v${entry.version} ${entry.writer}: ${JSON.stringify(entry.value)}`);
  }
  console.log("namespaces:", JSON.stringify(await fraud.listNamespaces()));
} finally {
  await Promise.all([fraudClient.quit(), paymentClient.quit()]);
}
