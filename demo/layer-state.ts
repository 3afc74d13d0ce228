/**
 * Shared state with the layer: the documents are RedisStore items. Every append is a compare-and-set update
 * (`store.update`), so two agents appending to one document at once both land; a write made inside a guarded
 * node carries the lock's fencing token, so it is rejected if that lock was lost and taken by another agent.
 * Each write is recorded in the item's version history with the writing worker's id.
 */
import type { RedisStore } from "langgraph-redis";
import type { Order } from "./orders.js";
import {
  type CustomerDoc,
  type CustomerEntry,
  emptyCustomerDoc,
  emptyOrderDoc,
  type OrderDoc,
  type OrderEntry,
  type SharedState,
  type WriteGuard,
  withEntry,
} from "./shared-state.js";

export const ORDERS = ["orders"];
export const CUSTOMERS = ["customers"];

type Json = Record<string, unknown>;

export class LayerState implements SharedState {
  constructor(
    private readonly store: RedisStore,
    private readonly writer: string,
  ) {}

  async readOrder(order: Order): Promise<OrderDoc> {
    const item = await this.store.get(ORDERS, order.orderId);
    return item ? (item.value as unknown as OrderDoc) : emptyOrderDoc(order);
  }

  async appendToOrder(copy: OrderDoc, entry: OrderEntry, guard: WriteGuard): Promise<void> {
    await this.store.update(
      ORDERS,
      copy.orderId,
      (current) => withEntry((current as OrderDoc | null) ?? { ...copy, log: [] }, entry) as unknown as Json,
      { writer: this.writer, ...(guard.fence ? { fence: guard.fence } : {}), maxAttempts: 100 },
    );
  }

  async readCustomer(customerId: string): Promise<CustomerDoc> {
    const item = await this.store.get(CUSTOMERS, customerId);
    return item ? (item.value as unknown as CustomerDoc) : emptyCustomerDoc(customerId);
  }

  async appendToCustomer(copy: CustomerDoc, entry: CustomerEntry): Promise<void> {
    await this.store.update(
      CUSTOMERS,
      copy.customerId,
      (current) =>
        withEntry((current as CustomerDoc | null) ?? emptyCustomerDoc(copy.customerId), entry) as unknown as Json,
      { writer: this.writer, maxAttempts: 100 },
    );
  }
}
