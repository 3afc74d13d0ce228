import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { AuditOutbox } from "../audit/outbox.js";
import { recordAuditEvent, runAuditContext } from "../audit/record.js";
import type { RedisClient } from "../client.js";
import { createRedisContext } from "../context.js";
import { LockLostError } from "../errors.js";
import { lockKey } from "../keys.js";
import { log } from "../log.js";
import { initTelemetry, traced } from "../telemetry/index.js";
import { ATTR } from "../telemetry/names.js";
import { acquireLocks } from "./acquire.js";
import { emit } from "./events.js";
import { issueFences, nodeConfig } from "./fence.js";
import { Lease } from "./lease.js";
import { resolveLockNames } from "./lock-names.js";
import { acquireThroughOutage } from "./offline.js";
import { type GuardedOptions, parseGuardedOptions } from "./options.js";
import { releaseLocks } from "./release.js";

/** A node function as LangGraph calls it. */
export type NodeFunction<State, Out> = (state: State, config: LangGraphRunnableConfig) => Out | Promise<Out>;

/** A runnable node (for example the prebuilt ToolNode). */
export interface NodeRunnable<State, Out> {
  invoke(state: State, config?: LangGraphRunnableConfig): Promise<Out>;
}

/** What guarded() returns: a node with the same state and output types, accepted by StateGraph.addNode. */
export type GuardedNode<State, Out> = (state: State, config: LangGraphRunnableConfig) => Promise<Out>;

/**
 * Wraps a node in a distributed lock on the resource(s) it touches, so that only one agent, in any process, runs
 * a node guarded on the same lock name at a time.
 *
 * Per call: resolve the lock names, take them in sorted order (onConflict decides what a held one means), issue a
 * fencing token per name, run the node with an AbortSignal that fires if a lock is lost, and release in `finally`
 * (also when the node throws or the graph is interrupted). Locks are refreshed while the node runs. A lost lock
 * makes the call fail with LockLostError, even if the node ignores the signal, so its result is never committed.
 *
 * ```ts
 * builder.addNode("payment", guarded(paymentNode, { client, key: (state) => `order:${state.orderId}` }));
 * ```
 */
export function guarded<State, Out>(
  node: NodeFunction<State, Out> | NodeRunnable<State, Out>,
  options: GuardedOptions<State, Out>,
): GuardedNode<State, Out> {
  const resolved = parseGuardedOptions(options);
  initTelemetry();
  const ctx = createRedisContext({ client: resolved.client, keyPrefix: resolved.keyPrefix, component: "guarded()" });
  const run: NodeFunction<State, Out> =
    typeof node === "function" ? node : (state, config) => node.invoke(state, config);
  const { events } = resolved;

  const guardedNode = (state: State, config: LangGraphRunnableConfig): Promise<Out> =>
    traced(
      "guarded",
      { [ATTR.threadId]: String(config?.configurable?.thread_id ?? "") },
      () => runGuarded(state, config),
      "internal",
    );

  const runGuarded = async (state: State, config: LangGraphRunnableConfig): Promise<Out> => {
    const lockKeys = await resolveLockNames(resolved.key, state, config ?? {});
    const audit = auditFor(resolved.audit, lockKeys, config);
    const tokens = new Map<string, number>(); // lock name -> fencing token, for the audit of a loss
    const lease = new Lease(lockKeys, resolved.lockTimeoutMs, (error, heldMs) => {
      emit(events, "onLost", { lockKeys, error, heldMs });
      if (audit) recordLost(resolved.client, resolved.keyPrefix, audit, lockKeys, heldMs, tokens);
    });
    const attempt = await acquireThroughOutage(
      resolved.client,
      lockKeys,
      resolved.offline,
      resolved.offlineWaitMs,
      config?.signal,
      () => acquireLocks(lockKeys, resolved, lease, state, config ?? {}),
    );
    // offline: "proceed": Redis is unreachable and the caller chose to run without the lock
    if (attempt.kind === "unlocked") return run(state, config ?? {});
    const acquisition = attempt.value;
    if (acquisition.kind === "skipped") return acquisition.result;

    let outcome: "returned" | "threw" | "lost" = "threw";
    try {
      const fences = await issueFences(
        ctx,
        acquisition.locks,
        lease,
        resolved.lockTimeoutMs,
        resolved.fenceTtlMs,
        audit && acquiredContext(audit, acquisition),
      );
      if (fences === undefined) throw lease.error ?? new LockLostError(lockKeys);
      for (const fence of fences) tokens.set(fence.lockKey, fence.token);
      if (audit) {
        for (const lock of acquisition.locks) {
          const context = { ...audit.context, lockKey: lock.lockName, fenceToken: tokens.get(lock.lockName) };
          lock.audit = { outbox: audit.outbox, context };
        }
      }
      lease.start();
      emit(events, "onAcquired", {
        lockKeys,
        fences,
        token: fences[0]?.token ?? 0,
        waitedMs: acquisition.waitedMs,
        attempts: acquisition.attempts,
      });
      const signal = config?.signal ? AbortSignal.any([config.signal, lease.signal]) : lease.signal;
      const result = await runWhileHeld(lease, () => run(state, nodeConfig(config ?? {}, fences, signal)));
      outcome = "returned";
      return result;
    } catch (error) {
      if (lease.isLost) {
        outcome = "lost";
        // Whatever the node threw after its lock was lost (typically the abort), the reason is the loss.
        throw lease.error ?? error;
      }
      throw error;
    } finally {
      const lost = lease.isLost;
      const heldMs = lease.heldMs;
      lease.end();
      // A lost lock is not ours to wait for: release it in the background (a no-op unless it is still ours).
      await releaseLocks(acquisition.locks, lost ? 0 : resolved.lockTimeoutMs);
      emit(events, "onReleased", { lockKeys, heldMs, outcome });
    }
  };
  Object.defineProperty(guardedNode, "name", { value: `guarded(${nodeName(node)})` });
  return guardedNode;
}

/**
 * Runs the node and returns its result only if every lock was held from start to finish. If the lease is lost
 * first, this throws LockLostError at once and leaves the node to finish (or notice its aborted signal) on its own.
 */
async function runWhileHeld<Out>(lease: Lease, runNode: () => Out | Promise<Out>): Promise<Out> {
  const nodeRun = Promise.resolve().then(runNode);
  const first = await Promise.race([
    nodeRun.then(
      (value) => ({ kind: "result" as const, value }),
      (error: unknown) => ({ kind: "error" as const, error }),
    ),
    lease.lost.then((error) => ({ kind: "lost" as const, error })),
  ]);
  if (first.kind === "lost") {
    nodeRun.catch((error: unknown) => log("guarded: node failed after its lock was lost: %s", errorName(error)));
    throw first.error;
  }
  if (first.kind === "error") throw first.error;
  if (!lease.isValid()) {
    lease.lose("its lease ran out before the node returned (refreshes did not get through in time)");
    throw lease.error;
  }
  return first.value;
}

/** Audit on: the outbox and what every lock event of this call records (the locks, the thread, run and node). */
function auditFor(
  outbox: AuditOutbox | undefined,
  lockKeys: readonly string[],
  config: LangGraphRunnableConfig | undefined,
): { readonly outbox: AuditOutbox; readonly context: Record<string, unknown> } | undefined {
  if (!outbox) return undefined;
  const context = runAuditContext(config ?? {});
  return { outbox, context: { ...context, agent: outbox.agentId ?? context.agent, lockKeys } };
}

/**
 * What lock.acquired records besides the call's context: when the call had to wait for a holder (a conflict), how
 * long it waited (ms, measured by this process from its first attempt to the last), so the wait can be drawn.
 */
function acquiredContext(
  audit: { readonly outbox: AuditOutbox; readonly context: Record<string, unknown> },
  acquisition: { readonly waitedMs: number; readonly conflicts: number },
): { readonly outbox: AuditOutbox; readonly context: Record<string, unknown> } {
  if (acquisition.conflicts === 0) return audit;
  return { outbox: audit.outbox, context: { ...audit.context, waitedMs: acquisition.waitedMs } };
}

/** A lost lock is an observation, not a write: recorded on its own, in the background (never throws). */
function recordLost(
  client: RedisClient,
  keyPrefix: string,
  audit: { readonly outbox: AuditOutbox; readonly context: Record<string, unknown> },
  lockKeys: readonly string[],
  heldMs: number,
  tokens: ReadonlyMap<string, number>,
): void {
  for (const name of lockKeys) {
    recordAuditEvent(client, audit.outbox, lockKey(keyPrefix, name), "lock.lost", {
      ...audit.context,
      lockKey: name,
      fenceToken: tokens.get(name),
      heldMs,
    }).catch((error: unknown) => log("guarded: recording a lost lock failed (%s)", errorName(error)));
  }
}

function nodeName(node: unknown): string {
  const name = (node as { name?: unknown; getName?: () => string }).name;
  return typeof name === "string" && name !== "" ? name : "node";
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
