import { randomUUID } from "node:crypto";
import type { RunnableConfig } from "@langchain/core/runnables";
import { IterableReadableStream } from "@langchain/core/utils/stream";
import { isGraphDrained, RunControl, type StateSnapshot } from "@langchain/langgraph";
import { createAuditOutbox } from "../audit/outbox.js";
import {
  ClockSkewError,
  describeValue,
  InvalidConfigError,
  InvalidOptionError,
  RunLeaseHeldError,
  RunsDrainingError,
} from "../errors.js";
import { runFenceField } from "../keys.js";
import { log } from "../log.js";
import { OFFLINE_SESSION, type OfflineSession } from "../offline/session.js";
import { parseOptions } from "../options.js";
import {
  DELETE_OWN_RUN,
  MARK_RUN_LIVE,
  RAISE_RUN_FENCE,
  RUN_FENCE_KEY,
  type RunFence,
  type RunLive,
} from "../saver/run-fence.js";
import type { ThreadStatus } from "../saver/threads/record.js";
import { SET_THREAD_STATUS } from "../saver/threads/register.js";
import { initTelemetry } from "../telemetry/index.js";
import { anySignal } from "./helpers/concurrency.js";
import { defaultOwnerId } from "./lease/default-owner-id.js";
import { type LeaseScope, openLeaseScope } from "./lease/lease-scope.js";
import { type LeaseTimings, RunLease, type RunRef } from "./lease/run-lease.js";
import { stopRun } from "./lease/stop-run.js";
import {
  type MultitaskStrategy,
  multitaskStrategySchema,
  type RunLeaseOptions,
  runLeaseOptionsSchema,
} from "./options.js";

/** What withRunLease needs from a compiled graph (any LangGraph CompiledStateGraph / Pregel fits). */
export interface LeasableGraph {
  invoke(input: unknown, config?: Partial<RunnableConfig>): Promise<unknown>;
  stream(input: unknown, config?: Partial<RunnableConfig>): Promise<AsyncIterable<unknown>>;
  getState(config: RunnableConfig): Promise<StateSnapshot>;
  readonly name?: string | undefined;
  /** The graph's checkpointer: a RedisSaver's writes are fenced with the run's lease token. */
  readonly checkpointer?: unknown;
}

/** The runs of a leased graph in flight in this process, and whether it is draining (drainRuns). */
export interface DrainState {
  draining: boolean;
  readonly inFlight: Set<{ readonly control: RunControl; readonly threadId: string }>;
  /** Runs handed off so far (drained at a step boundary, their lease marked expired for another process). */
  handedOff: number;
  /** Called whenever a run in flight ends. */
  onSettled?: (() => void) | undefined;
}

/** Internal view of a leased graph, used by findCrashedRuns / resumeCrashedRuns. */
export interface LeasedGraphContext {
  readonly drain: DrainState;
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

  const strategyOf = (config: Partial<RunnableConfig> | undefined): MultitaskStrategy => {
    const given: unknown = config?.configurable?.multitask_strategy;
    if (given === undefined) return parsed.multitaskStrategy;
    const checked = multitaskStrategySchema.safeParse(given);
    if (!checked.success) {
      throw new InvalidConfigError(
        `config.configurable.multitask_strategy must be "reject", "enqueue", "interrupt" or "rollback", received ${describeValue(given)}`,
      );
    }
    return checked.data;
  };

  /**
   * Takes the run's lease; under "enqueue", waits its turn in the thread's queue; on a busy thread, under
   * "interrupt" or "rollback", first stops the run in flight (in
   * whatever process) and takes the lease once it is released. Bounded: a few attempts, each waiting at most a
   * lease period plus two heartbeats (a run that ignores its signal keeps its lease: RunLeaseHeldError then).
   */
  const acquire = async (config: Partial<RunnableConfig> | undefined, claimToken: number, runId: string) => {
    const run = runOf(config);
    const strategy = claimToken === 0 ? strategyOf(config) : "reject";
    if (strategy === "enqueue") {
      return RunLease.enqueue(scope, run, timings, runId, { waitMs: parsed.enqueueWaitMs, signal: config?.signal });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await RunLease.acquire(scope, run, timings, claimToken, runId);
      } catch (error) {
        if (!(error instanceof RunLeaseHeldError) || strategy === "reject" || attempt >= 3) throw error;
        const waitMs = timings.leaseMs + 2 * timings.heartbeatMs;
        await stopRun(scope, graph, run, strategy, { waitMs, pollMs: Math.min(100, timings.heartbeatMs) });
      }
    }
  };

  const drain: DrainState = { draining: false, inFlight: new Set(), handedOff: 0 };

  /** Registers a run in flight with the RunControl drainRuns stops it through (the caller's, or a new one). */
  const track = (config: Partial<RunnableConfig> | undefined, threadId: string) => {
    if (drain.draining) throw new RunsDrainingError(threadId);
    const given = (config as { control?: unknown } | undefined)?.control;
    const control = given instanceof RunControl ? given : new RunControl();
    const entry = { control, threadId };
    drain.inFlight.add(entry);
    return {
      control,
      done: () => {
        drain.inFlight.delete(entry);
        drain.onSettled?.();
      },
    };
  };

  const invoke = async (input: unknown, config?: Partial<RunnableConfig>, claimToken = 0): Promise<unknown> => {
    const runConfig = withRunId(config);
    const tracked = track(config, runOf(config).threadId);
    let lease: RunLease;
    try {
      lease = await acquire(config, claimToken, runIdOf(runConfig));
    } catch (error) {
      tracked.done();
      throw error;
    }
    const offline = rideOutages(graph, lease);
    let outcome: RunOutcome = { ok: false, error: undefined };
    try {
      await threadStatus(graph, lease, "busy");
      const fenced = await fencedConfig(graph, scope, timings, lease, runConfig);
      const signal = anySignal([config?.signal, lease.signal]);
      const result = await graph.invoke(input, { ...fenced, control: tracked.control, signal } as RunnableConfig);
      outcome = { ok: true };
      return result;
    } catch (error) {
      outcome = { ok: false, error };
      throw lease.stopReason ?? error;
    } finally {
      await endRun(graph, lease, outcome, drain, offline);
      tracked.done();
    }
  };

  const stream = async (input: unknown, config?: Partial<RunnableConfig>): Promise<AsyncIterable<unknown>> => {
    const runConfig = withRunId(config);
    const tracked = track(config, runOf(config).threadId);
    let lease: RunLease;
    try {
      lease = await acquire(config, 0, runIdOf(runConfig));
    } catch (error) {
      tracked.done();
      throw error;
    }
    const offline = rideOutages(graph, lease);
    let inner: AsyncIterable<unknown>;
    try {
      await threadStatus(graph, lease, "busy");
      const fenced = await fencedConfig(graph, scope, timings, lease, runConfig);
      const signal = anySignal([config?.signal, lease.signal]);
      inner = await graph.stream(input, { ...fenced, control: tracked.control, signal } as RunnableConfig);
    } catch (error) {
      await endRun(graph, lease, { ok: false, error }, drain, offline);
      tracked.done();
      throw lease.stopReason ?? error;
    }
    // The run lives while the stream is read: release when it ends, fails or the reader stops early.
    async function* leased(): AsyncGenerator<unknown> {
      let outcome: RunOutcome = { ok: true };
      try {
        yield* inner;
      } catch (error) {
        outcome = { ok: false, error };
        throw lease.stopReason ?? error;
      } finally {
        await endRun(graph, lease, outcome, drain, offline);
        tracked.done();
      }
    }
    return IterableReadableStream.fromAsyncGenerator(leased());
  };

  const context: LeasedGraphContext = { graph, scope, timings, invoke, drain };
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

/** What a RedisSaver checkpointer offers a leased run (internal methods, keyed by symbols). */
interface FencingCheckpointer {
  [RAISE_RUN_FENCE]?: (fence: RunFence, live?: RunLive) => Promise<void>;
  [MARK_RUN_LIVE]?: (
    threadId: string,
    field: string,
    mark: { token: number; liveMs: number; runId: string },
  ) => Promise<boolean>;
  [DELETE_OWN_RUN]?: (runIds: string[], fence: RunFence) => Promise<unknown>;
}

function fencingCheckpointer(graph: LeasableGraph): FencingCheckpointer | undefined {
  const checkpointer = graph.checkpointer;
  return typeof checkpointer === "object" && checkpointer !== null ? (checkpointer as FencingCheckpointer) : undefined;
}

/** The fence each run of a RedisSaver graph raised (fencedConfig), for its rollback and its live mark's removal. */
const fences = new WeakMap<RunLease, RunFence & { readonly liveMs: number }>();

/**
 * Records the run's lease token with the graph's checkpointer before the run reads or writes anything, and returns
 * the config that hands the token to the checkpointer's writes: RedisSaver then refuses every put and putWrites of a
 * run whose lease a newer run (or a recoverer) has taken over. The same call marks the run live on its thread for a
 * lease period, and each heartbeat keeps the mark alive until the run ends (endRun clears it): RedisSaver's
 * deleteForRuns, prune's delete and copyThread leave a thread alone while a live run writes it. Unless the caller
 * chose a durability, the run uses "sync". Other checkpointers are left as they are.
 */
async function fencedConfig(
  graph: LeasableGraph,
  scope: LeaseScope,
  timings: LeaseTimings,
  lease: RunLease,
  config: Partial<RunnableConfig> | undefined,
): Promise<Partial<RunnableConfig>> {
  const checkpointer = fencingCheckpointer(graph);
  const raise = checkpointer?.[RAISE_RUN_FENCE];
  if (typeof raise !== "function") return config ?? {};
  const { threadId, checkpointNs } = lease.run;
  const field = runFenceField(scope.keyPrefix, scope.graphName, checkpointNs);
  const fence: RunFence = { field, token: lease.token, threadId, checkpointNs };
  const liveMs = timings.leaseMs;
  await raise.call(checkpointer, fence, { liveMs, runId: lease.runId });
  fences.set(lease, { ...fence, liveMs });
  const mark = checkpointer?.[MARK_RUN_LIVE];
  if (typeof mark === "function") {
    lease.onRenewed((token) => mark.call(checkpointer, threadId, field, { token, liveMs, runId: lease.runId }));
  }
  // "sync": each step's writes are stored (or refused) before the next step starts, so a run that was taken over
  // stops at the end of the step it was in, instead of starting the next one while its writes are being refused.
  const given = (config ?? {}) as { durability?: unknown; checkpointDuring?: unknown };
  const durability =
    given.durability === undefined && given.checkpointDuring === undefined ? { durability: "sync" } : {};
  return { ...durability, ...config, configurable: { ...config?.configurable, [RUN_FENCE_KEY]: fence } };
}

/**
 * The run's config with a run id in its metadata (`metadata.run_id`: the caller's, else a new UUID), so every
 * checkpoint the run writes names it and a rollback can remove them (RedisSaver.deleteForRuns).
 */
function withRunId(config: Partial<RunnableConfig> | undefined): Partial<RunnableConfig> {
  const runId: unknown = config?.metadata?.run_id;
  if (typeof runId === "string" && runId !== "") return config ?? {};
  return { ...config, metadata: { ...config?.metadata, run_id: randomUUID() } };
}

function runIdOf(config: Partial<RunnableConfig>): string {
  return String(config.metadata?.run_id ?? "");
}

/**
 * Ends a leased run: a run cancelled with "rollback" first has what it wrote removed (while it still holds the
 * lease, so no run starts on the thread in between), then the lease is released and the thread's status set.
 */
async function endRun(
  graph: LeasableGraph,
  lease: RunLease,
  outcome: RunOutcome,
  drain: DrainState,
  offline: OfflineRide | undefined,
): Promise<void> {
  if (lease.cancelled === "rollback" && lease.runId !== "") {
    const checkpointer = graph.checkpointer as
      | ({ deleteForRuns?: (runIds: string[]) => Promise<unknown> } & FencingCheckpointer)
      | undefined;
    const fence = fences.get(lease);
    try {
      // As the run itself (its fence): deleteForRuns refuses a thread a live run writes, to anyone else.
      const deleteOwn = checkpointer?.[DELETE_OWN_RUN];
      if (fence && typeof deleteOwn === "function") await deleteOwn.call(checkpointer, [lease.runId], fence);
      else await checkpointer?.deleteForRuns?.([lease.runId]);
    } catch (error) {
      log("run lease: rollback of run %s on thread %j failed: %s", lease.runId, lease.run.threadId, String(error));
    }
  }
  // A run drained at a step boundary is handed off: its lease expires now, so a recoverer elsewhere resumes it. So is
  // one whose checkpoint this process's clock could not order after its parent (ClockSkewError): nothing of it was
  // lost, and a process with a right clock (or this one, once its clock has passed the parent's) finishes it.
  const handOff = !outcome.ok && handedOver(outcome.error) && !lease.lost && lease.cancelled === undefined;
  await endLease(lease, offline, handOff, () => clearLiveMark(graph, lease));
  if (handOff && isGraphDrained(outcome.error)) drain.handedOff += 1;
  await endStatus(graph, lease, outcome);
}

/** A run that ended with this error is left for recovery to resume (drained, or refused for its clock). */
function handedOver(error: unknown): boolean {
  return isGraphDrained(error) || error instanceof ClockSkewError;
}

/** How a leased run ended, for the thread status it leaves. */
type RunOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

type StatusSetter = (threadId: string, status: ThreadStatus) => Promise<void>;

/** The graph's RedisSaver status setter, or undefined for other checkpointers. */
function statusSetter(graph: LeasableGraph): StatusSetter | undefined {
  const checkpointer = graph.checkpointer as { [SET_THREAD_STATUS]?: StatusSetter } | undefined;
  const set = typeof checkpointer === "object" && checkpointer !== null ? checkpointer[SET_THREAD_STATUS] : undefined;
  return typeof set === "function" ? set.bind(checkpointer) : undefined;
}

/** Records the status of the run's thread in the saver's registry (root namespace runs only). Never throws. */
async function threadStatus(graph: LeasableGraph, lease: RunLease, status: ThreadStatus): Promise<void> {
  if (lease.run.checkpointNs !== "") return;
  await statusSetter(graph)?.(lease.run.threadId, status);
}

/**
 * The status a run leaves behind: "error" when it failed, "interrupted" when it stopped at an interrupt (or was
 * cancelled with "interrupt"), "idle" otherwise. A run that lost its lease, or was handed over, leaves "busy": a
 * recoverer resumes it.
 */
async function endStatus(graph: LeasableGraph, lease: RunLease, outcome: RunOutcome): Promise<void> {
  if (lease.run.checkpointNs !== "" || statusSetter(graph) === undefined) return;
  const cancelled = lease.cancelled;
  if (cancelled !== undefined) return threadStatus(graph, lease, cancelled === "rollback" ? "idle" : "interrupted");
  if (lease.lost) return;
  if (!outcome.ok) return threadStatus(graph, lease, handedOver(outcome.error) ? "busy" : "error");
  let interrupted = false;
  try {
    const snapshot = await graph.getState({ configurable: { thread_id: lease.run.threadId } });
    interrupted = snapshot.tasks.some((task) => task.interrupts.length > 0);
  } catch (error) {
    log("run lease: the state of thread %j could not be read for its status: %s", lease.run.threadId, String(error));
  }
  return threadStatus(graph, lease, interrupted ? "interrupted" : "idle");
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
async function endLease(
  lease: RunLease,
  offline: OfflineRide | undefined,
  handOff: boolean,
  clearMark: () => Promise<void>,
): Promise<void> {
  if (offline === undefined || offline.session.state === "online" || lease.lost) {
    offline?.unregister();
    // A lost lease's mark needs nothing: it names the run that took the lease over, or it lapses with the lease (it
    // could not be refreshed either), and Redis may well not answer now.
    if (!lease.lost) await clearMark();
    await lease.release(handOff);
    return;
  }
  void offline.session.whenOnline().then(async () => {
    offline.unregister();
    await clearMark();
    await lease.release(handOff);
  });
}

/**
 * Removes the run's live mark from its thread once it writes no more (before its lease is released, so no moment
 * has the lease free and the mark still up). A mark left behind (this failed, or the run was taken over: the mark
 * then names the newer run, and stays) lapses a lease period after the last heartbeat. Never throws.
 */
async function clearLiveMark(graph: LeasableGraph, lease: RunLease): Promise<void> {
  const fence = fences.get(lease);
  const checkpointer = fencingCheckpointer(graph);
  const mark = checkpointer?.[MARK_RUN_LIVE];
  if (!fence || typeof mark !== "function") return;
  // Bounded like the release: the run has ended, and its caller must not wait on a Redis that does not answer.
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, fence.liveMs);
    timer.unref();
  });
  try {
    const clearing = mark.call(checkpointer, fence.threadId, fence.field, {
      token: lease.token,
      liveMs: 0,
      runId: lease.runId,
    });
    clearing.catch(() => {}); // a late failure after giving up: the mark lapses
    await Promise.race([clearing, giveUp]);
  } catch (error) {
    log("run lease: clearing the live mark of thread %j failed, it lapses: %s", fence.threadId, String(error));
  } finally {
    clearTimeout(timer);
  }
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
