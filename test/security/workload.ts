/**
 * One pass over every public operation of the library (RedisSaver, RedisStore, RedisCache, guarded(), the durability
 * check, crash recovery), against a given client and key prefix. The security tests run it under a restricted ACL user,
 * over TLS and with debug logging on; it throws on the first operation that fails.
 */
import { Annotation, END, type LangGraphRunnableConfig, START, StateGraph } from "@langchain/langgraph";
import {
  CorruptDataError,
  checkDurability,
  currentFence,
  DurabilityError,
  findCrashedRuns,
  guarded,
  RedisCache,
  type RedisClient,
  RedisSaver,
  RedisStore,
  resumeCrashedRuns,
  startRecoveryWorker,
  VersionConflictError,
  withRunLease,
} from "../../src/index.js";
import { runLeaseMember, saverThreadKeys } from "../../src/keys.js";
import { acquireLease } from "../../src/recovery/lease/acquire-lease.js";
import { leasedGraphContext } from "../../src/recovery/with-run-lease.js";
import { createSaverContext } from "../../src/saver/context.js";
import { deleteForRuns } from "../../src/saver/delete-for-runs.js";
import { pruneThreads } from "../../src/saver/prune.js";

const emptyCheckpoint = {
  v: 4,
  id: "",
  ts: "2025-01-01T00:00:00.000Z",
  channel_values: {},
  channel_versions: {},
  versions_seen: {},
};
const inputMetadata = { source: "input" as const, step: -1, parents: {} };

export interface WorkloadResult {
  /** Values the workload wrote; a log or an error message must never contain them. */
  readonly secrets: readonly string[];
  readonly operations: number;
}

export async function runWorkload(client: RedisClient, keyPrefix: string): Promise<WorkloadResult> {
  const secret = `secret-value-${keyPrefix}-7f3a`;
  const saver = new RedisSaver({ client, keyPrefix, ttl: { defaultTtlMs: 3_600_000 } });
  const store = new RedisStore({ client, keyPrefix, ttl: { refreshOnRead: true } });
  let operations = 0;
  const step = async <T>(promise: Promise<T>): Promise<T> => {
    const result = await promise;
    operations++;
    return result;
  };

  const State = Annotation.Root({
    orderId: Annotation<string>,
    notes: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
  });
  const charge = guarded(
    async (state: typeof State.State, config: LangGraphRunnableConfig) => {
      const fence = currentFence(config, `order:${state.orderId}`);
      await store.put(["orders", state.orderId], "charge", { secret, paid: true }, { fence, writer: "payment" });
      return { notes: [`charged ${state.orderId}`] };
    },
    { client, keyPrefix, key: (state) => `order:${state.orderId}`, lockTimeoutMs: 5000 },
  );
  const graph = new StateGraph(State)
    .addNode("charge", charge)
    .addNode("review", () => ({ notes: [secret] }))
    .addEdge(START, "charge")
    .addEdge("charge", "review")
    .addEdge("review", END)
    .compile({ checkpointer: saver, store });

  const config = { configurable: { thread_id: "thread-1" } };
  await step(graph.invoke({ orderId: "o-1" }, config));
  // Notes past blobDeltas.minBytes that keep growing: stored as deltas on their base (saverPut checks the base).
  await step(graph.invoke({ orderId: "o-1", notes: ["n".repeat(3_000)] }, config));
  await step(
    graph.invoke({ orderId: "o-2" }, { configurable: { thread_id: "thread-2" }, metadata: { run_id: "r-2" } }),
  );
  const state = await step(graph.getState(config));
  if (!state.values.notes.includes(secret)) throw new Error("checkpointed state did not round-trip");
  for await (const _ of saver.list({ configurable: {} }, { limit: 10 })) operations++;
  for await (const _ of saver.list(config)) operations++;
  await step(saver.getDeltaChannelHistory({ config, channels: ["notes"] }));
  await step(saver.copyThread("thread-1", "thread-1-copy"));
  // prune, once with every step leaving the blobs it made unneeded to the sweep (HSCAN), as on a long thread.
  const sweeping = createSaverContext({
    client,
    keyPrefix,
    ttl: { defaultTtlMs: 3_600_000, refreshOnRead: false },
    serde: saver.serde,
    blobCheckLimit: 0,
  });
  if ((await step(pruneThreads(sweeping, ["thread-1-copy"], { keepLast: 1 }))).blobs === 0) {
    throw new Error("the prune of thread-1-copy deleted no blob: the sweep did not run");
  }
  await step(saver.prune(["thread-1-copy"], { strategy: "delete" }));
  // deleteForRuns of a run with more checkpoints than a few (its index entries blanked with LSET, then one LREM),
  // checking the blobs in pages (saverCheckBlobs) as on a long thread.
  for (const runId of ["r-3", "r-3", "r-3", "r-4"]) {
    await step(
      graph.invoke({ orderId: "o-3" }, { configurable: { thread_id: "thread-3" }, metadata: { run_id: runId } }),
    );
  }
  const paged = await step(deleteForRuns(sweeping, ["r-3"]));
  if (paged.checkpoints <= 8 || paged.blobs === 0) {
    throw new Error(`deleteForRuns of r-3 removed ${JSON.stringify(paged)}: the paged check did not run`);
  }
  await step(saver.deleteForRuns(["r-2"]));
  await step(saver.deleteThread("thread-2"));

  await step(store.put(["memories", "alice"], "m1", { text: secret, topic: "billing" }));
  await step(store.put(["memories", "alice"], "m2", { text: "other", topic: "billing" }, { ttlMs: 60_000 }));
  await step(store.get(["memories", "alice"], "m1"));
  await step(store.search(["memories"], { filter: { topic: "billing" }, limit: 10 }));
  await step(store.listNamespaces({ prefix: ["memories"] }));
  const version = await step(store.putIfVersion(["memories", "alice"], "m1", { text: "v2" }, 1));
  await step(store.putIfVersion(["memories", "alice"], "m1", { text: "v3" }, version - 1)).then(
    () => {
      throw new Error("a stale compare-and-set was accepted");
    },
    (error: unknown) => {
      if (!(error instanceof VersionConflictError)) throw error;
    },
  );
  await step(store.update(["memories", "alice"], "counter", (current) => ({ n: Number(current?.n ?? 0) + 1 })));
  await step(store.getWithVersion(["memories", "alice"], "m1"));
  await step(store.history(["memories", "alice"], "m1"));
  await step(store.delete(["memories", "alice"], "m2"));
  await step(store.sweepExpired({ maxNamespaces: 10 }));
  // the node cache: set with a TTL and without, get, clear one namespace, clear everything
  const cache = new RedisCache({ client, keyPrefix, buckets: 2 });
  await step(
    cache.set([
      { key: [["cache", "node"], "k1"], value: { secret }, ttl: 60 },
      { key: [["cache", "other"], "k2"], value: { secret } },
    ]),
  );
  const hits = await step(
    cache.get([
      [["cache", "node"], "k1"],
      [["cache", "other"], "k2"],
    ]),
  );
  if (hits.length !== 2) throw new Error("the cache lost an entry");
  await step(cache.clear([["cache", "node"]]));
  await step(cache.clear([]));
  if ((await cache.get([[["cache", "other"], "k2"]])).length !== 0) throw new Error("clear([]) left an entry");
  await step(checkDurability(client, { check: "warn", onWarning: () => {} }));
  // a key holding another Redis type: the error names that very key (TYPE finds which one it is)
  const wrongKey = saverThreadKeys(keyPrefix, "wrong-type").checkpoints;
  await saver.put(
    { configurable: { thread_id: "wrong-type", checkpoint_ns: "" } },
    { ...emptyCheckpoint, id: "1" },
    inputMetadata,
    {},
  );
  await client.del(wrongKey);
  await client.set(wrongKey, "not a hash");
  await step(
    saver.getTuple({ configurable: { thread_id: "wrong-type" } }).then(
      () => {
        throw new Error("a key of the wrong type was read as a thread");
      },
      (error: unknown) => {
        if (!(error instanceof CorruptDataError) || error.key !== wrongKey) throw error;
      },
    ),
  );
  await client.del(wrongKey);
  // the waits after a write (WAIT, and WAITAOF or its detection): no replica here, so not confirmed in time
  const waiting = new RedisSaver({
    client,
    keyPrefix,
    durability: { waitForReplicas: 1, waitForAof: true, onUnsupported: "skip", waitTimeoutMs: 20, onWarning: () => {} },
  });
  await step(
    waiting.put(config, { ...emptyCheckpoint, id: "1f000000-0000-6000-8000-0000000000ff" }, inputMetadata, {}).then(
      () => {
        throw new Error("a write was confirmed by a replica that does not exist");
      },
      (error: unknown) => {
        if (!(error instanceof DurabilityError)) throw error;
      },
    ),
  );
  // crash recovery: leased runs, and a run left behind with an expired lease, found and resumed
  const app = withRunLease(graph, { client, keyPrefix, name: "workload", leaseMs: 1_000 });
  await step(app.invoke({ orderId: "o-3" }, { configurable: { thread_id: "thread-3" } }));
  for await (const _ of await app.stream({ orderId: "o-4" }, { configurable: { thread_id: "thread-4" } })) operations++;
  const stopped = { configurable: { thread_id: "thread-5" } };
  await step(graph.invoke({ orderId: "o-5" }, { ...stopped, interruptBefore: ["review"] }));
  const scope = leasedGraphContext(app)?.scope;
  if (!scope) throw new Error("withRunLease returned a graph without lease settings");
  await step(acquireLease(scope, runLeaseMember("thread-5", ""), "a process that died", 1));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const crashed = await step(findCrashedRuns(app));
  if (crashed.length !== 1) throw new Error(`expected one crashed run, found ${crashed.length}`);
  const resumed = await step(resumeCrashedRuns(app));
  if (resumed.resumed !== 1) throw new Error(`expected one resumed run: ${JSON.stringify(resumed.results)}`);
  const worker = startRecoveryWorker(app, { intervalMs: 10 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await step(worker.stop());
  if (worker.stats.errors > 0) throw new Error("a recovery worker pass failed");
  return { secrets: [secret], operations };
}
