/**
 * Shared state without the layer: JSON documents in plain Redis keys. An agent reads a document, works (a tool
 * call, a model call), and writes its copy back with SET. Nothing stops two agents from doing that to the same
 * document at once, so the later SET silently drops the earlier agent's entry: a lost write.
 */
import type { RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";
import type { Order } from "./orders.js";
import {
  type CustomerDoc,
  type CustomerEntry,
  emptyCustomerDoc,
  emptyOrderDoc,
  type OrderDoc,
  type OrderEntry,
  type SharedState,
  withEntry,
} from "./shared-state.js";

export class NaiveState implements SharedState {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: DemoKeys,
  ) {}

  async readOrder(order: Order): Promise<OrderDoc> {
    const json = await this.client.get(this.keys.naiveOrder(order.orderId));
    return json ? (JSON.parse(json) as OrderDoc) : emptyOrderDoc(order);
  }

  async appendToOrder(copy: OrderDoc, entry: OrderEntry): Promise<void> {
    await this.save(this.keys.naiveOrder(copy.orderId), withEntry(copy, entry));
  }

  async readCustomer(customerId: string): Promise<CustomerDoc> {
    const json = await this.client.get(this.keys.naiveCustomer(customerId));
    return json ? (JSON.parse(json) as CustomerDoc) : emptyCustomerDoc(customerId);
  }

  async appendToCustomer(copy: CustomerDoc, entry: CustomerEntry): Promise<void> {
    await this.save(this.keys.naiveCustomer(copy.customerId), withEntry(copy, entry));
  }

  private async save(key: string, doc: unknown): Promise<void> {
    // The SADD only registers the key for cleanup; the SET is the naive write itself.
    await Promise.all([this.client.set(key, JSON.stringify(doc)), this.client.sadd(this.keys.index, key)]);
  }
}
