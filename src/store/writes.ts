import {
  CorruptDataError,
  FencedWriteError,
  FenceTokenNotIssuedError,
  LangGraphRedisError,
  UnknownFenceLockError,
  VersionConflictError,
} from "../errors.js";
import { fenceCounterKey, storeNamespaceKeys } from "../keys.js";
import { commandCall, type RoutedCall, runRouted } from "../routing.js";
import type { StoreContext } from "./context.js";
import { type PreparedWrite, type PutOutcome, putCall } from "./crud/put.js";
import { registerCalls, unregisterCalls } from "./registry.js";

/** Rounds of register-and-retry a write may need before giving up (only concurrent retirements cause a repeat). */
const MAX_REGISTRATION_ROUNDS = 10;

/**
 * Cluster, before the writes: a fenced write is refused at once when a newer token has been issued for its lock
 * key (the counter lives in the lock's slot, so it is read here; the item's script then checks and raises the
 * per-item high-water mark). The reply is the newest token issued, or null.
 */
export function fenceCounterCall(ctx: StoreContext, write: PreparedWrite): RoutedCall<string | null> {
  const counter = fenceCounterKey(ctx.keyPrefix, write.fence?.lockKey ?? "");
  return commandCall<string | null>(counter, (p) => void p.get(counter));
}

/**
 * Cluster: a fenced write's outcome from its lock's counter as read just before the write (the GET reply), or
 * undefined when the write may go on. The same rule as the standalone script: only the newest token issued is
 * accepted, and a lock key with no counter under this prefix is unknown.
 */
export function fenceCounterOutcome(write: PreparedWrite, counter: string | null | undefined): PutOutcome | undefined {
  if (counter === null || counter === undefined) return { kind: "fence-unknown" };
  const newest = Number(counter);
  const token = write.fence?.token ?? 0;
  if (token < newest) return { kind: "fenced", newest };
  if (token > newest) return { kind: "fence-not-issued", newest };
  return undefined;
}

/**
 * Cluster, after the first round of writes: drop registrations of namespaces found empty (`retired`, member ->
 * registration sequence), register the namespaces writes were waiting for (in write order, so namespaces created
 * by one batch get sequences in the batch's order) and run those writes again with their registration epoch.
 */
export async function settleWrites(
  ctx: StoreContext,
  writes: readonly PreparedWrite[],
  outcomes: PutOutcome[],
  retired: Map<string, number>,
): Promise<void> {
  const collectRetired = (indexes: Iterable<number>) => {
    for (const i of indexes) {
      const outcome = outcomes[i];
      if (outcome?.kind === "written" && outcome.retiredEpoch > 0) {
        retired.set((writes[i] as PreparedWrite).member, outcome.retiredEpoch);
      }
    }
  };
  collectRetired(outcomes.keys());
  for (let round = 0; ; round++) {
    const pending = [...outcomes.keys()].filter((i) => outcomes[i]?.kind === "register");
    if (pending.length === 0 && retired.size === 0) return;
    if (round >= MAX_REGISTRATION_ROUNDS) {
      throw new LangGraphRedisError(
        `Could not register a store namespace after ${round} rounds (it kept being retired by concurrent readers)`,
      );
    }
    const members = [...new Set(pending.map((i) => (writes[i] as PreparedWrite).member))];
    const unregister = unregisterCalls(ctx, retired);
    const replies = await runRouted(ctx, [...unregister, ...registerCalls(ctx, members)]);
    retired.clear();
    if (members.length === 0) return;
    const epochOf = new Map<string, number>();
    for (const reply of replies.slice(unregister.length)) {
      for (const [member, seq] of reply as Map<string, number>) epochOf.set(member, seq);
    }
    const confirmed = await runRouted(
      ctx,
      pending.map((i) => {
        const write = writes[i] as PreparedWrite;
        return putCall(ctx, write, epochOf.get(write.member));
      }),
    );
    pending.forEach((i, j) => {
      outcomes[i] = confirmed[j] as PutOutcome;
    });
    collectRetired(pending);
  }
}

/** The named error for a write that was refused, or undefined when it was written. */
export function writeError(ctx: StoreContext, write: PreparedWrite, outcome: PutOutcome): Error | undefined {
  switch (outcome.kind) {
    case "conflict":
      return new VersionConflictError(
        write.namespace,
        write.key,
        write.expectedVersion ? write.expectedVersion : null,
        outcome.actual > 0 ? outcome.actual : null,
      );
    case "fenced":
      return new FencedWriteError(write.fence?.lockKey ?? "", write.fence?.token ?? 0, outcome.newest);
    case "fence-unknown":
      return new UnknownFenceLockError(write.fence?.lockKey ?? "", write.fence?.token ?? 0);
    case "fence-not-issued":
      return new FenceTokenNotIssuedError(write.fence?.lockKey ?? "", write.fence?.token ?? 0, outcome.newest);
    case "corrupt":
      return new CorruptDataError(
        storeNamespaceKeys(ctx.keyPrefix, write.namespace).items,
        `field "${write.key}" has no readable item header; the write was refused`,
      );
    default:
      return undefined;
  }
}
