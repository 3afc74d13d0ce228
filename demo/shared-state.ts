/**
 * The business state the agents share: one document per order (the verdicts and payments written on it) and one
 * profile per customer (every review and charge of that customer). Every write appends an entry that carries a
 * write id, so the report can tell, for each write a process made, whether it is still visible at the end.
 *
 * Two implementations of one port: on RedisStore (compare-and-set updates, fenced by the lock's token) and the
 * way many systems start without a shared memory layer: plain GET of a JSON document, work, SET of the copy.
 */
import type { Order } from "./orders.js";

export type OrderEntryKind = "cleared" | "flagged" | "charging" | "charged" | "declined";

export interface OrderEntry {
  readonly writeId: string;
  readonly kind: OrderEntryKind;
  readonly worker: string;
  /** "charging": the provider idempotency key, stored before the card is charged. */
  readonly idempotencyKey?: string;
  readonly chargeId?: string;
}

export interface OrderDoc {
  readonly orderId: string;
  readonly customerId: string;
  readonly amountCents: number;
  readonly log: readonly OrderEntry[];
}

export interface CustomerEntry {
  readonly writeId: string;
  readonly orderId: string;
  readonly kind: "reviewed" | "charged";
  readonly amountCents?: number;
}

export interface CustomerDoc {
  readonly customerId: string;
  readonly log: readonly CustomerEntry[];
}

/** What a write made inside a guarded node carries so the store can reject it if the lock was lost. */
export interface WriteGuard {
  readonly fence?: { readonly lockKey: string; readonly token: number };
}

export interface SharedState {
  readOrder(order: Order): Promise<OrderDoc>;
  /** Appends `entry`; `copy` is the document as this agent read it earlier (the naive version writes it back). */
  appendToOrder(copy: OrderDoc, entry: OrderEntry, guard: WriteGuard): Promise<void>;
  readCustomer(customerId: string): Promise<CustomerDoc>;
  appendToCustomer(copy: CustomerDoc, entry: CustomerEntry): Promise<void>;
}

export function emptyOrderDoc(order: Order): OrderDoc {
  return { orderId: order.orderId, customerId: order.customerId, amountCents: order.amountCents, log: [] };
}

export function emptyCustomerDoc(customerId: string): CustomerDoc {
  return { customerId, log: [] };
}

/** Appends unless an entry with the same write id is there already (a re-run of the same task). */
export function withEntry<D extends { log: readonly E[] }, E extends { writeId: string }>(doc: D, entry: E): D {
  if (doc.log.some((e) => e.writeId === entry.writeId)) return doc;
  return { ...doc, log: [...doc.log, entry] };
}

export function isCharged(doc: OrderDoc): boolean {
  return doc.log.some((e) => e.kind === "charged");
}

/** A charge that was started (its idempotency key stored) and not recorded as done. */
export function pendingCharge(doc: OrderDoc): OrderEntry | undefined {
  return isCharged(doc) ? undefined : doc.log.find((e) => e.kind === "charging");
}

export function isFlagged(doc: OrderDoc): boolean {
  return doc.log.some((e) => e.kind === "flagged");
}
