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
import { clientFromUrl, guarded } from "../../../src/index.js";

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
  await pause(0, 2);
  const flagged = state.orderId % 3 === 0;
  if (flagged) await record(state.orderId, "flag", true);
  await record(state.orderId, "end");
  return { outcome: flagged ? "flagged" : "clear" };
}

async function payment(state: OrderState) {
  await record(state.orderId, "start");
  const flag = await client.get(`${prefix}:race:{o${state.orderId}}:flag`);
  await pause(4, 8); // the model call between reading the order and acting on it
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

// Both agents see each order arrive at the same moment: order i arrives at startAt + i * gapMs (one clock: same host).
const gapMs = 4;
const ready = await client.incr(`${prefix}:race:ready`);
if (ready === 2) await client.set(`${prefix}:race:startAt`, String(Date.now() + 300), "NX");
const readyBy = Date.now() + 60_000;
let startAt = Number.NaN;
while (Number.isNaN(startAt)) {
  if (Date.now() > readyBy) throw new Error("the other agent never became ready");
  const value = await client.get(`${prefix}:race:startAt`);
  if (value === null) await sleep(2);
  else startAt = Number(value);
}

const outcomes: Record<string, number> = {};
const runs: Promise<void>[] = [];
for (let orderId = 0; orderId < orders; orderId++) {
  const waitMs = startAt + orderId * gapMs - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  runs.push(
    graph.invoke({ orderId, outcome: "" }).then((result) => {
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    }),
  );
}
await Promise.all(runs);
process.stdout.write(`${JSON.stringify({ role, guard, orders, conflicts, outcomes, ms: Date.now() - startAt })}\n`);
await client.quit();
