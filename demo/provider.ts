/**
 * A simulated card payment provider, the outside world of the scenario. Its ledger in Redis is the truth about
 * money that moved: an order charged twice shows up as two ledger entries. Like real providers it accepts an
 * idempotency key: a retried request with the same key returns the first charge instead of charging again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";
import type { Order } from "./orders.js";
import { latencyMs } from "./tools.js";

/**
 * KEYS[1] hash idempotency key -> charge id; KEYS[2] ledger list.
 * ARGV[1] idempotency key; ARGV[2] ledger entry (JSON without the charge id).
 * Result: { charge id, 1 if charged now | 0 if the key was seen before }.
 */
const CHARGE_LUA = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return { existing, 0 } end
local n = redis.call('LLEN', KEYS[2]) + 1
local chargeId = 'ch_' .. n
redis.call('RPUSH', KEYS[2], chargeId .. ' ' .. ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], chargeId)
return { chargeId, 1 }`;

type ChargeCommand = (
  charges: string,
  ledger: string,
  idempotencyKey: string,
  entry: string,
) => Promise<[string, number]>;

export interface LedgerEntry {
  readonly chargeId: string;
  readonly orderId: string;
  readonly amountCents: number;
  readonly worker: string;
}

export class PaymentProvider {
  private readonly charge: ChargeCommand;

  constructor(
    client: RedisClient,
    private readonly keys: DemoKeys,
  ) {
    const target = client as unknown as Record<string, ChargeCommand | undefined>;
    if (typeof target.demoCharge !== "function")
      client.defineCommand("demoCharge", { numberOfKeys: 2, lua: CHARGE_LUA });
    this.charge = (target.demoCharge as ChargeCommand).bind(client);
  }

  /** Charges the card (40-160 ms, as a card network round trip takes). */
  async chargeCard(
    order: Order,
    amountCents: number,
    idempotencyKey: string,
    worker: string,
    signal?: AbortSignal,
  ): Promise<{ chargeId: string; charged: boolean }> {
    await sleep(latencyMs(order, "card", 40, 160), undefined, { signal });
    const entry = JSON.stringify({ orderId: order.orderId, amountCents, worker });
    const [chargeId, charged] = await this.charge(
      this.keys.providerCharges,
      this.keys.providerLedger,
      idempotencyKey,
      entry,
    );
    return { chargeId, charged: charged === 1 };
  }

  static async ledger(client: RedisClient, keys: DemoKeys): Promise<LedgerEntry[]> {
    const entries = await client.lrange(keys.providerLedger, 0, -1);
    return entries.map((line) => {
      const space = line.indexOf(" ");
      return {
        chargeId: line.slice(0, space),
        ...(JSON.parse(line.slice(space + 1)) as Omit<LedgerEntry, "chargeId">),
      };
    });
  }
}
