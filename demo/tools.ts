/**
 * The agents' tools: deterministic (the same order gives the same answer in both setups) and as slow as the
 * services they stand for (a device-fingerprint lookup, a risk model, a CRM lookup, a mail service). No network,
 * no LLM: the latency is a timer, so the scenario's timing resembles a real one without its cost.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Order } from "./orders.js";

/** Orders whose risk score reaches this are flagged by the fraud agent (about one in five). */
export const FLAG_THRESHOLD = 0.7;

/** A latency in [minMs, maxMs] that depends only on the order and the tool. */
export function latencyMs(order: Order, tool: string, minMs: number, maxMs: number): number {
  const digest = createHash("sha256").update(`${order.orderId}/${tool}`).digest();
  return minMs + (digest.readUInt16BE(0) / 0xffff) * (maxMs - minMs);
}

export interface DeviceSignals {
  readonly newCard: boolean;
  readonly riskyCountry: boolean;
  readonly highAmount: boolean;
}

export async function deviceSignals(order: Order, signal?: AbortSignal): Promise<DeviceSignals> {
  await sleep(latencyMs(order, "device", 15, 45), undefined, { signal });
  return {
    newCard: order.cardAgeDays < 90,
    riskyCountry: order.country === "NG" || order.country === "BR",
    highAmount: order.amountCents > 300_000,
  };
}

/** The risk model: a score in [0, 1]; FLAG_THRESHOLD and above means fraud. */
export async function riskModel(order: Order, signals: DeviceSignals, signal?: AbortSignal): Promise<number> {
  await sleep(latencyMs(order, "model", 40, 140), undefined, { signal });
  const score =
    order.signal * 0.78 +
    (signals.newCard ? 0.12 : 0) +
    (signals.riskyCountry ? 0.14 : 0) +
    (signals.highAmount ? 0.1 : 0);
  return Math.min(1, Math.round(score * 1000) / 1000);
}

export interface CustomerRecord {
  readonly tier: "standard" | "gold";
  readonly feeBps: number;
}

export async function customerLookup(order: Order, signal?: AbortSignal): Promise<CustomerRecord> {
  await sleep(latencyMs(order, "crm", 15, 40), undefined, { signal });
  const gold = Number.parseInt(order.customerId.slice(1), 10) % 3 === 0;
  return { tier: gold ? "gold" : "standard", feeBps: gold ? 0 : 120 };
}

export async function sendReceipt(order: Order, signal?: AbortSignal): Promise<void> {
  await sleep(latencyMs(order, "mail", 5, 20), undefined, { signal });
}
