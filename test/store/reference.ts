/**
 * The reference the differential tests compare RedisStore with: LangGraph's InMemoryStore, with the two documented
 * deviations of RedisStore modelled on top (docs/store.md, "Differences from InMemoryStore"):
 * - a namespace exists while it holds items: InMemoryStore keeps listing (and ordering) a namespace forever once
 *   created, even empty; RedisStore drops it when its last item goes (so nothing grows without bound);
 * - deleting a missing item does not create its namespace;
 * - a get returns a snapshot: InMemoryStore returns its live item object, which a later write of the same item
 *   (even one later in the same batch) changes under the caller's feet.
 */
import { type GetOperation, InMemoryStore, type Item, type PutOperation } from "@langchain/langgraph-checkpoint";

export function referenceStore(options?: ConstructorParameters<typeof InMemoryStore>[0]): InMemoryStore {
  const store = new InMemoryStore(options);
  const internals = store as unknown as {
    data: Map<string, Map<string, Item>>;
    putOperation(op: PutOperation): void;
    getOperation(op: GetOperation): Item | null;
  };
  const originalGet = internals.getOperation.bind(store);
  internals.getOperation = (op: GetOperation) => {
    const item = originalGet(op);
    return item ? structuredClone(item) : null;
  };
  const original = internals.putOperation.bind(store);
  internals.putOperation = (op: PutOperation) => {
    const ns = op.namespace.join(":");
    if (op.value === null && !internals.data.has(ns)) return;
    original(op);
    if (internals.data.get(ns)?.size === 0) internals.data.delete(ns);
  };
  return store;
}

/** Results without timestamps (which differ by construction), for comparison. */
export function normalize(result: unknown): unknown {
  if (Array.isArray(result)) return result.map(normalize);
  if (result && typeof result === "object" && "key" in result && "namespace" in result) {
    const item = result as Item & { score?: number };
    return {
      namespace: item.namespace,
      key: item.key,
      value: item.value,
      ...(item.score !== undefined ? { score: item.score } : {}),
    };
  }
  return result;
}
