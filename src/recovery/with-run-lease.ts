import type { RunnableConfig } from "@langchain/core/runnables";
import { IterableReadableStream } from "@langchain/core/utils/stream";
import type { StateSnapshot } from "@langchain/langgraph";
import { createAuditOutbox } from "../audit/outbox.js";
import { InvalidConfigError, InvalidOptionError } from "../errors.js";
import { runFenceField } from "../keys.js";
import { OFFLINE_SESSION, type OfflineSession } from "../offline/session.js";
import { parseOptions } from "../options.js";
import { RAISE_RUN_FENCE, RUN_FENCE_KEY, type RunFence } from "../saver/run-fence.js";
import { initTelemetry } from "../telemetry/index.js";
import { anySignal } from "./helpers/concurrency.js";
import { defaultOwnerId } from "./lease/default-owner-id.js";
import { type LeaseScope, openLeaseScope } from "./lease/lease-scope.js";
import { type LeaseTimings, RunLease, type RunRef } from "./lease/run-lease.js";
import { type RunLeaseOptions, runLeaseOptionsSchema } from "./options.js";

/** What withRunLease needs from a compiled graph (any LangGraph CompiledStateGraph / Pregel fits). */
export interface LeasableGraph {
  invoke(input: unknown, config?: Partial<RunnableConfig>): Promise<unknown>;
  stream(input: unknown, config?: Partial<RunnableConfig>): Promise<AsyncIterable<unknown>>;
  getState(config: RunnableConfig): Promise<StateSnapshot>;
  readonly name?: string | undefined;
  /** The graph's checkpointer: a RedisSaver's writes are fenced with the run's lease token. */
  readonly checkpointer?: unknown;
}

/** Internal view of a leased graph, used by findCrashedRuns / resumeCrashedRuns. */
export interface LeasedGraphContext {
  readonly graph: LeasableGraph;
  readonly scope: LeaseScope;
  readonly timings: LeaseTimings;
  /** Runs `graph.invoke(input, config)` under a lease; with claimToken, under the lease the claim turns into. */
  invoke(input: unknown, config: Partial<RunnableConfig> | undefined, claimToken?: number): Promise<unknown>;
}

const contexts = new WeakMap<object, LeasedGraphContext>();

/** The lease settings of a graph returned by withRunLease, or undefined for any other value. */
export function leasedGraphContext(graph: unknown): LeasedGraphContext | undefined {
  return typeof graph === "object" && graph !== null ? contexts.get(graph) : undefined;
}

/** Like leasedGraphContext, but throws InvalidOptionError naming `option` for a graph withRunLease did not return. */
export function requireLeasedGraph(graph: unknown, owner: string): LeasedGraphContext {
  const context = leasedGraphContext(graph);
  if (!context) throw new InvalidOptionError(`${owner}.graph`, graph, "a graph returned by withRunLease()");
  return context;
}

/**
 * Wraps a compiled graph so every run started with `invoke` or `stream` holds a lease on its thread in Redis for
 * as long as it executes. The returned object is the same graph otherwise (every other property and method passes
 * through), so neither the graph's code nor its callers change. See docs/recovery.md.
 */
export function withRunLease<G extends LeasableGraph>(graph: G, options: RunLeaseOptions): G {
  if (leasedGraphContext(graph)) {
    throw new InvalidOptionError("withRunLease.graph", "a leased graph", "a graph not already wrapped by withRunLease");
  }
  const parsed = parseOptions(runLeaseOptionsSchema, options, "withRunLease");
  initTelemetry(); // so a lease lost early in the process is already counted
  const scope = openLeaseScope({
    client: parsed.client,
    keyPrefix: parsed.keyPrefix,
    graphName: parsed.name ?? (typeof graph.name === "string" && graph.name !== "" ? graph.name : "graph"),
    audit: createAuditOutbox(parsed.client, parsed.keyPrefix, parsed.audit),
  });
  const timings: LeaseTimings = {
    owner: parsed.owner ?? defaultOwnerId(),
    leaseMs: parsed.leaseMs,
    heartbeatMs: parsed.heartbeatMs ?? Math.max(1, Math.floor(parsed.leaseMs / 3)),
  };

  const invoke = async (input: unknown, config?: Partial<RunnableConfig>, claimToken = 0): Promise<unknown> => {
    const lease = await RunLease.acquire(scope, runOf(config), timings, claimToken);
    const offline = rideOutages(graph, lease);
    try {
      const fenced = await fencedConfig(graph, scope, lease, config);
      return await graph.invoke(input, { ...fenced, signal: anySignal([config?.signal, lease.signal]) });
    } catch (error) {
      throw lease.lost ? lease.signal.reason : error;
    } finally {
      await endLease(lease, offline);
    }
  };

  const stream = async (input: unknown, config?: Partial<RunnableConfig>): Promise<AsyncIterable<unknown>> => {
    const lease = await RunLease.acquire(scope, runOf(config), timings);
    const offline = rideOutages(graph, lease);
    let inner: AsyncIterable<unknown>;
    try {
      const fenced = await fencedConfig(graph, scope, lease, config);
      inner = await graph.stream(input, { ...fenced, signal: anySignal([config?.signal, lease.signal]) });
    } catch (error) {
      await endLease(lease, offline);
      throw lease.lost ? lease.signal.reason : error;
    }
    // The run lives while the stream is read: release when it ends, fails or the reader stops early.
    async function* leased(): AsyncGenerator<unknown> {
      try {
        yield* inner;
      } catch (error) {
        throw lease.lost ? lease.signal.reason : error;
      } finally {
        await endLease(lease, offline);
      }
    }
    return IterableReadableStream.fromAsyncGenerator(leased());
  };

  const context: LeasedGraphContext = { graph, scope, timings, invoke };
  const proxy = new Proxy(graph, {
    get(target, property) {
      if (property === "invoke") return invoke;
      if (property === "stream") return stream;
      // Everything else runs on the graph itself (LangGraph uses private class fields, which proxies cannot reach).
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  contexts.set(proxy, context);
  return proxy;
}

/**
 * Records the run's lease token with the graph's checkpointer before the run reads or writes anything, and returns
 * the config that hands the token to the checkpointer's writes: RedisSaver then refuses every put and putWrites of a
 * run whose lease a newer run (or a recoverer) has taken over. Unless the caller chose a durability, the run uses
 * "sync". Other checkpointers are left as they are.
 */
async function fencedConfig(
  graph: LeasableGraph,
  scope: LeaseScope,
  lease: RunLease,
  config: Partial<RunnableConfig> | undefined,
): Promise<Partial<RunnableConfig>> {
  const checkpointer = graph.checkpointer as { [RAISE_RUN_FENCE]?: (fence: RunFence) => Promise<void> } | undefined;
  const raise = typeof checkpointer === "object" && checkpointer !== null ? checkpointer[RAISE_RUN_FENCE] : undefined;
  if (typeof raise !== "function") return config ?? {};
  const { threadId, checkpointNs } = lease.run;
  const field = runFenceField(scope.keyPrefix, scope.graphName, checkpointNs);
  const fence: RunFence = { field, token: lease.token, threadId, checkpointNs };
  await raise.call(checkpointer, fence);
  // "sync": each step's writes are stored (or refused) before the next step starts, so a run that was taken over
  // stops at the end of the step it was in, instead of starting the next one while its writes are being refused.
  const given = (config ?? {}) as { durability?: unknown; checkpointDuring?: unknown };
  const durability =
    given.durability === undefined && given.checkpointDuring === undefined ? { durability: "sync" } : {};
  return { ...durability, ...config, configurable: { ...config?.configurable, [RUN_FENCE_KEY]: fence } };
}

/**
 * With a RedisSaver that journals through outages (its `offline` option), the run's lease rides them out too: an
 * unreachable Redis does not end it, and when Redis answers the lease is re-validated before the saver replays a
 * single record (docs/offline.md: the lease first, then the replay). Returns the hook's handle, or undefined.
 */
function rideOutages(graph: LeasableGraph, lease: RunLease): OfflineRide | undefined {
  const checkpointer = graph.checkpointer as { [OFFLINE_SESSION]?: () => OfflineSession | undefined } | undefined;
  const open = typeof checkpointer === "object" && checkpointer !== null ? checkpointer[OFFLINE_SESSION] : undefined;
  const session = typeof open === "function" ? open.call(checkpointer) : undefined;
  if (session === undefined) return undefined;
  lease.rideOutages();
  return { session, unregister: session.onBeforeReplay(() => lease.revalidate()) };
}

interface OfflineRide {
  readonly session: OfflineSession;
  readonly unregister: () => void;
}

/**
 * Releases the lease once the run ended. A run that ended offline keeps its lease (heartbeats go on) until its
 * journal is replayed, in the background: released earlier, a recoverer could resume the thread from the state
 * Redis holds before the replay.
 */
async function endLease(lease: RunLease, offline: OfflineRide | undefined): Promise<void> {
  if (offline === undefined || offline.session.state === "online" || lease.lost) {
    offline?.unregister();
    await lease.release();
    return;
  }
  void offline.session.whenOnline().then(async () => {
    offline.unregister();
    await lease.release();
  });
}

function runOf(config: Partial<RunnableConfig> | undefined): RunRef {
  const configurable = config?.configurable ?? {};
  const threadId: unknown = configurable.thread_id;
  if (typeof threadId !== "string" && typeof threadId !== "number") {
    throw new InvalidConfigError(
      "A run of a leased graph needs config.configurable.thread_id (a string): the lease is held on the thread",
    );
  }
  const ns: unknown = configurable.checkpoint_ns;
  return { threadId: String(threadId), checkpointNs: typeof ns === "string" ? ns : "" };
}
