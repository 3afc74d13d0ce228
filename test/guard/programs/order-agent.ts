/**
 * One agent of the race test, run as its own process: a fraud agent or a payment agent working through the same
 * orders as the other one, each order one graph run whose node is guarded on `order:<id>`.
 *
 * Each node records its critical section in Redis with the server's clock (TIME, in microseconds): `start`, then
 * (fraud) `flag` for every third order or (payment) `approve` / `decline` after reading the flag, then `end`.
 * The payment node reads the flag, then "calls a model" (a short pause), then decides: without the lock a fraud
 * flag written during that pause is missed, which is the bug the test looks for.
 *
 * Usage: tsx order-agent.ts <fraud|payment> <url> <prefix> <orders> <guard on|off>
 * Prints one JSON line with counts, and exits 0.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Annotation, StateGraph } from "@langchain/langgraph";
import { clientFromUrl, guarded, type RedisClient } from "../../../src/index.js";

const [role, url, prefix, ordersArg, guardArg] = process.argv.slice(2);
if ((role !== "fraud" && role !== "payment") || !url || !prefix || !ordersArg) {
  throw new Error("usage: order-agent.ts <fraud|payment> <url> <prefix> <orders> <on|off>");
}
const orders = Number(ordersArg);
const guard = guardArg !== "off";

const client = clientFromUrl(url, { maxRetriesPerRequest: 1 });
client.defineCommand("recordEvent", {
  numberOfKeys: 2,
  // KEYS[1] events list, KEYS[2] flag key; ARGV[1] "role|kind"; ARGV[2] "1" to also set the flag.
  lua: `
    local t = redis.call("TIME")
    local micros = t[1] .. string.format("%06d", tonumber(t[2]))
    if ARGV[2] == "1" then redis.call("SET", KEYS[2], micros) end
    redis.call("RPUSH", KEYS[1], ARGV[1] .. "|" .. micros)
    return micros`,
});
const record = (id: number, kind: string, setFlag = false) =>
  (client as unknown as { recordEvent: (...args: string[]) => Promise<string> }).recordEvent(
    `${prefix}:race:{o${id}}:events`,
    `${prefix}:race:{o${id}}:flag`,
    `${role}|${kind}`,
    setFlag ? "1" : "0",
  );
/** A random pause between `fromMs` and `toMs`: the agent's own work (a model or tool call). */
const pause = (fromMs: number, toMs: number) => sleep(fromMs + Math.random() * (toMs - fromMs));

const Order = Annotation.Root({ orderId: Annotation<number>, outcome: Annotation<string> });
type OrderState = typeof Order.State;

async function fraudReview(state: OrderState) {
  await record(state.orderId, "start");
  await pause(2, 5); // the model's fraud assessment
  const flagged = state.orderId % 3 === 0;
  if (flagged) await record(state.orderId, "flag", true);
  await record(state.orderId, "end");
  return { outcome: flagged ? "flagged" : "clear" };
}

async function payment(state: OrderState) {
  await record(state.orderId, "start");
  const flag = await client.get(`${prefix}:race:{o${state.orderId}}:flag`);
  await pause(5, 10); // the model call between reading the order and acting on it
  const outcome = flag === null ? "approve" : "decline";
  await record(state.orderId, outcome);
  await record(state.orderId, "end");
  return { outcome };
}

let conflicts = 0;
const body = role === "fraud" ? fraudReview : payment;
const node = guard
  ? guarded(body, {
      client,
      keyPrefix: prefix,
      key: (state) => `order:${state.orderId}`,
      retryIntervalMs: 2,
      events: { onConflict: () => conflicts++ },
    })
  : body;
const graph = new StateGraph(Order).addNode("agent", node).addEdge("__start__", "agent").compile();

/**
 * The order event reaches both agents together: a worker announces the order to the other agent and blocks until
 * the other agent announces it back (BLPOP, on the worker's own connection), so both start within a round trip.
 */
async function receive(worker: RedisClient, orderId: number): Promise<void> {
  const other = role === "fraud" ? "payment" : "fraud";
  await worker.rpush(`${prefix}:race:{o${orderId}}:to-${other}`, "1");
  const got = await worker.blpop(`${prefix}:race:{o${orderId}}:to-${role}`, 60);
  if (got === null) throw new Error(`the other agent never received order ${orderId}`);
}

const workers = 4;
const outcomes: Record<string, number> = {};
const startedAt = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: workers }, async () => {
    const worker = clientFromUrl(url, { maxRetriesPerRequest: 1 });
    try {
      while (next < orders) {
        const orderId = next++;
        await receive(worker, orderId);
        const result = await graph.invoke({ orderId, outcome: "" });
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      }
    } finally {
      await worker.quit();
    }
  }),
);
process.stdout.write(`${JSON.stringify({ role, guard, orders, conflicts, outcomes, ms: Date.now() - startedAt })}\n`);
await client.quit();
