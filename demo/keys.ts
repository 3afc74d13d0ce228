/**
 * Names of the keys the demo itself writes (the order stream, the recording, the simulated payment provider and
 * the "without the layer" documents). The library's own keys (checkpoints, store items, locks, leases) live under
 * the same run prefix, passed to RedisSaver, RedisStore and guarded() as `keyPrefix`.
 *
 * All demo keys share one hash tag, so the demo also runs against a Redis Cluster URL (one slot for its own keys).
 * Keys named after an order or a customer are added to an index set when first written, so cleanup deletes exactly
 * what the run created without listing the server's keys.
 */
export class DemoKeys {
  private readonly base: string;

  constructor(readonly prefix: string) {
    this.base = `${prefix}:demo:{${prefix}}`;
  }

  /** The order stream (XADD by the orchestrator, consumer groups "fraud" and "payment"). */
  get orders(): string {
    return `${this.base}:orders`;
  }

  /** One list per kind of recorded event; each entry is "<server time in µs> <json>". */
  record(kind: string): string {
    return `${this.base}:rec:${kind}`;
  }

  /** Latency samples in µs, one list per kind ("put", "lockWait"). */
  samples(kind: string): string {
    return `${this.base}:lat:${kind}`;
  }

  /** Threads whose run reached its last node (SADD thread id). */
  get done(): string {
    return `${this.base}:done`;
  }

  /** Hash worker id -> runs in flight in that worker. */
  get inFlight(): string {
    return `${this.base}:inflight`;
  }

  /** Hash worker id -> pid, written by each process when it is ready. */
  get workers(): string {
    return `${this.base}:workers`;
  }

  /** Expires unless the worker refreshes it: a missing key means the worker is dead. */
  heartbeat(workerId: string): string {
    return `${this.base}:alive:${workerId}`;
  }

  /** Set by the orchestrator when every order has been processed: workers drain and exit. */
  get stop(): string {
    return `${this.base}:stop`;
  }

  /** Simulated payment provider: idempotency key -> charge id, and its ledger of charges (the money that moved). */
  get providerCharges(): string {
    return `${this.base}:provider:charges`;
  }

  get providerLedger(): string {
    return `${this.base}:provider:ledger`;
  }

  /** "Without the layer": plain JSON documents read with GET and written back with SET. */
  naiveOrder(orderId: string): string {
    return `${this.base}:naive:order:${orderId}`;
  }

  naiveCustomer(customerId: string): string {
    return `${this.base}:naive:customer:${customerId}`;
  }

  /** Set of the per-order and per-customer keys above that were created. */
  get index(): string {
    return `${this.base}:index`;
  }

  /** Every fixed key name (the per-order and per-customer ones are in `index`). */
  fixed(kinds: { records: readonly string[]; samples: readonly string[]; workerIds: readonly string[] }): string[] {
    return [
      this.orders,
      ...kinds.records.map((k) => this.record(k)),
      ...kinds.samples.map((k) => this.samples(k)),
      ...kinds.workerIds.map((id) => this.heartbeat(id)),
      this.done,
      this.inFlight,
      this.workers,
      this.stop,
      this.providerCharges,
      this.providerLedger,
      this.index,
    ];
  }
}
