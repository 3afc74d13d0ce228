/**
 * The order stream: a Redis stream the orchestrator publishes order events to, read by the fraud agents and the
 * payment agents through one consumer group per agent kind (each event reaches one fraud worker and one payment
 * worker). Delivery is at least once: some orders are published twice, as an upstream retry would, and the
 * entries of a worker that dies stay pending until the recoverer claims them.
 */
import type { RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";
import type { Agent } from "./recording.js";

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly amountCents: number;
  readonly country: string;
  readonly cardAgeDays: number;
  /** Raw fraud signal in [0, 1); the fraud agent's risk model turns it (with the other fields) into a score. */
  readonly signal: number;
}

export interface OrderEvent {
  /** "<order id>.<delivery>": a duplicate delivery of an order has its own event (and so its own threads). */
  readonly eventId: string;
  readonly order: Order;
}

export interface DeliveredEvent {
  readonly streamId: string;
  readonly event: OrderEvent;
}

export const agents: readonly Agent[] = ["fraud", "payment"];

export function threadId(agent: Agent, eventId: string): string {
  return `${agent}:${eventId}`;
}

/** mulberry32: a small deterministic PRNG, so one seed gives the same orders in both setups. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const countries = ["DE", "FR", "NL", "US", "GB", "BR", "NG", "IN"];

export function generateOrders(count: number, customers: number, seed: number): Order[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => ({
    orderId: `o${String(i + 1).padStart(4, "0")}`,
    customerId: `c${String(1 + Math.floor(random() * customers)).padStart(2, "0")}`,
    amountCents: 500 + Math.floor(random() ** 3 * 1_500_000),
    country: countries[Math.floor(random() * countries.length)] ?? "DE",
    cardAgeDays: Math.floor(random() * 900),
    signal: random(),
  }));
}

/** The events to publish, in order: every order once, a share of them a second time shortly after. */
export function eventSchedule(
  orders: readonly Order[],
  ratePerSec: number,
  duplicateRate: number,
  seed: number,
): { atMs: number; event: OrderEvent }[] {
  const random = prng(seed ^ 0x5eed);
  const schedule: { atMs: number; event: OrderEvent }[] = [];
  orders.forEach((order, i) => {
    const atMs = (i * 1000) / ratePerSec;
    schedule.push({ atMs, event: { eventId: `${order.orderId}.1`, order } });
    if (random() < duplicateRate) {
      schedule.push({ atMs: atMs + random() * 40, event: { eventId: `${order.orderId}.2`, order } });
    }
  });
  return schedule.sort((a, b) => a.atMs - b.atMs);
}

export async function createOrderStream(client: RedisClient, keys: DemoKeys): Promise<void> {
  for (const agent of agents) await client.xgroup("CREATE", keys.orders, agent, "$", "MKSTREAM");
}

export async function publishEvent(client: RedisClient, keys: DemoKeys, event: OrderEvent): Promise<void> {
  await client.xadd(keys.orders, "*", "event", JSON.stringify(event));
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

function parseEntries(entries: [id: string, fields: string[]][]): DeliveredEvent[] {
  return entries.flatMap(([streamId, fields]) => {
    const json = fields[fields.indexOf("event") + 1];
    return json ? [{ streamId, event: JSON.parse(json) as OrderEvent }] : [];
  });
}

/** Reads up to `count` new events for this consumer, waiting up to `blockMs` (needs a connection of its own). */
export async function readEvents(
  blocking: RedisClient,
  keys: DemoKeys,
  agent: Agent,
  consumer: string,
  count: number,
  blockMs: number,
): Promise<DeliveredEvent[]> {
  const reply = (await blocking.xreadgroup(
    "GROUP",
    agent,
    consumer,
    "COUNT",
    count,
    "BLOCK",
    blockMs,
    "STREAMS",
    keys.orders,
    ">",
  )) as StreamReply;
  return reply?.[0] ? parseEntries(reply[0][1]) : [];
}

export async function ackEvent(client: RedisClient, keys: DemoKeys, agent: Agent, streamId: string): Promise<void> {
  await client.xack(keys.orders, agent, streamId);
}

/** Consumers of a group (worker ids) with their pending entry counts. */
export async function groupConsumers(
  client: RedisClient,
  keys: DemoKeys,
  agent: Agent,
): Promise<{ name: string; pending: number }[]> {
  const rows = (await client.xinfo("CONSUMERS", keys.orders, agent)) as (string | number)[][];
  return rows.map((row) => {
    const fields = new Map<string, string | number>();
    for (let i = 0; i + 1 < row.length; i += 2) fields.set(String(row[i]), row[i + 1] as string | number);
    return { name: String(fields.get("name")), pending: Number(fields.get("pending") ?? 0) };
  });
}

/** Moves every entry pending for a (dead) consumer to `to`, and returns them; the dead consumer is then removed. */
export async function claimPending(
  client: RedisClient,
  keys: DemoKeys,
  agent: Agent,
  from: string,
  to: string,
): Promise<DeliveredEvent[]> {
  const pending = (await client.xpending(keys.orders, agent, "-", "+", 10_000, from)) as [string, ...unknown[]][];
  const ids = pending.map((row) => row[0]);
  if (ids.length === 0) {
    await client.xgroup("DELCONSUMER", keys.orders, agent, from);
    return [];
  }
  const claimed = (await client.call("XCLAIM", keys.orders, agent, to, "0", ...ids)) as [string, string[]][];
  await client.xgroup("DELCONSUMER", keys.orders, agent, from);
  return parseEntries(claimed.filter((entry) => entry !== null));
}
