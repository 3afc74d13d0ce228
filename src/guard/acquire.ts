import { setTimeout as sleep } from "node:timers/promises";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { InvalidInputError, LockConflictError } from "../errors.js";
import { lockFailure } from "../redis-call.js";
import { emit } from "./events.js";
import { GuardMutex } from "./guard-mutex.js";
import type { Lease } from "./lease.js";
import type { ConflictDecision, ResolvedGuardOptions } from "./options.js";
import { releaseLocks } from "./release.js";

export type Acquisition<Out> =
  | {
      readonly kind: "held";
      readonly locks: readonly GuardMutex[];
      readonly waitedMs: number;
      readonly attempts: number;
      /** How many times a name was found held by someone else before all were taken (0: taken at once). */
      readonly conflicts: number;
    }
  | { readonly kind: "skipped"; readonly result: Out };

/**
 * Takes every lock name in the given (sorted) order, one after the other, so two calls that need overlapping sets
 * of names never hold one each while waiting for the other's. When a name is held by someone else:
 * - "wait": keep the names already taken and poll this one until it is free or acquireTimeoutMs has passed overall;
 * - "fail": let go of everything taken so far and throw LockConflictError;
 * - a handler: let go of everything taken so far (nobody should wait on us while we decide), then do what it says.
 * Whatever happens, a name taken here is either returned as held or released before this function returns.
 */
export async function acquireLocks<State, Out>(
  names: readonly string[],
  options: ResolvedGuardOptions<State, Out>,
  lease: Lease,
  state: State,
  config: LangGraphRunnableConfig,
): Promise<Acquisition<Out>> {
  const startedAt = performance.now();
  const deadline = startedAt + options.acquireTimeoutMs;
  const policy = typeof options.onConflict === "function" ? "handler" : options.onConflict;
  const waitedMs = () => Math.round(performance.now() - startedAt);
  let conflicts = 0;

  for (let round = 1; ; round++) {
    const held: GuardMutex[] = [];
    try {
      let conflictKey: string | undefined;
      for (const name of names) {
        const mutex = await take(name, options, lease, config.signal);
        if (mutex !== undefined) {
          held.push(mutex);
          continue;
        }
        conflicts++;
        emit(options.events, "onConflict", {
          lockKeys: names,
          conflictKey: name,
          attempt: conflicts,
          waitedMs: waitedMs(),
          onConflict: policy,
        });
        if (policy === "wait") {
          const waited = await waitFor(name, options, lease, deadline, config.signal);
          if (waited !== undefined) {
            held.push(waited);
            continue;
          }
          throw timedOut(names, name, options.acquireTimeoutMs);
        }
        conflictKey = name;
        break;
      }
      if (conflictKey === undefined)
        return { kind: "held", locks: held, waitedMs: waitedMs(), attempts: round, conflicts };

      await releaseLocks(held.splice(0), options.lockTimeoutMs);
      if (typeof options.onConflict !== "function") throw new LockConflictError(names);
      const decision = await options.onConflict({
        lockKeys: names,
        conflictKey,
        attempt: conflicts,
        waitedMs: waitedMs(),
        state,
        config,
      });
      switch (checkDecision(decision).action) {
        case "skip":
          return { kind: "skipped", result: (decision as { result: Out }).result };
        case "fail":
          throw new LockConflictError(names);
        case "retry": {
          const afterMs = (decision as { afterMs: number }).afterMs;
          if (performance.now() + afterMs > deadline) throw timedOut(names, conflictKey, options.acquireTimeoutMs);
          await sleep(afterMs, undefined, config.signal ? { signal: config.signal } : {});
        }
      }
    } catch (error) {
      await releaseLocks(held, options.lockTimeoutMs);
      throw error;
    }
  }
}

/**
 * Tries one name every retryIntervalMs until it is free (the mutex) or `deadline` (performance.now()) has passed
 * (undefined). The loop is ours rather than redis-semaphore's, which bounds its wait with the wall clock: a step of
 * that clock (an NTP correction) would end the wait early or stretch it past acquireTimeoutMs.
 */
async function waitFor<State, Out>(
  name: string,
  options: ResolvedGuardOptions<State, Out>,
  lease: Lease,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<GuardMutex | undefined> {
  for (;;) {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) return undefined;
    try {
      await sleep(Math.min(options.retryIntervalMs, remainingMs), undefined, signal ? { signal } : {});
    } catch (error) {
      // Aborted: the caller's reason, as an abort inside an attempt gives it.
      throw signal?.aborted ? signal.reason : error;
    }
    const mutex = await take(name, options, lease, signal);
    if (mutex !== undefined) return mutex;
  }
}

/** One attempt (SET NX) at one name through redis-semaphore: the mutex when it got the lock, undefined when not. */
async function take<State, Out>(
  name: string,
  options: ResolvedGuardOptions<State, Out>,
  lease: Lease,
  signal: AbortSignal | undefined,
): Promise<GuardMutex | undefined> {
  const mutex = new GuardMutex(
    options.client,
    name,
    {
      keyPrefix: options.keyPrefix,
      lockTimeoutMs: options.lockTimeoutMs,
      refreshIntervalMs: options.refreshIntervalMs,
    },
    lease,
  );
  try {
    return (await mutex.tryAcquire(signal)) ? mutex : undefined;
  } catch (error) {
    throw lockFailure(error, name, signal);
  }
}

function timedOut(names: readonly string[], name: string, acquireTimeoutMs: number): LockConflictError {
  return new LockConflictError(
    names,
    `Lock "${name}" stayed held by another agent for acquireTimeoutMs (${acquireTimeoutMs} ms)`,
  );
}

function checkDecision<Out>(decision: ConflictDecision<Out>): ConflictDecision<Out> {
  const action = (decision as { action?: unknown } | null | undefined)?.action;
  if (action === "skip" || action === "fail") return decision;
  if (action === "retry") {
    const afterMs = (decision as { afterMs?: unknown }).afterMs;
    if (typeof afterMs === "number" && Number.isFinite(afterMs) && afterMs >= 0) return decision;
  }
  throw new InvalidInputError(
    'guarded(): the onConflict handler must return { action: "retry", afterMs }, { action: "skip", result } ' +
      'or { action: "fail" }',
  );
}
