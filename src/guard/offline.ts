/**
 * guarded() while Redis is unreachable (docs/offline.md). A lock cannot be taken without Redis, so by default
 * (`offline: "wait"`) the call keeps trying for `offlineWaitMs` and then fails with OfflineLockError: the node never
 * runs unlocked, and the run can be resumed once Redis is back. `offline: "proceed"` runs the node without its lock
 * and without fencing tokens, an explicit choice that gives up mutual exclusion for availability.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RedisClient } from "../client.js";
import { OfflineLockError, RedisConnectionError } from "../errors.js";
import { log } from "../log.js";
import { isConnectionError } from "../redis-errors.js";

/** How often the lock is tried again while Redis is unreachable. */
const RETRY_MS = 250;

export type OfflineLockPolicy = "wait" | "proceed";

export type OfflineAcquisition<T> = { readonly kind: "taken"; readonly value: T } | { readonly kind: "unlocked" };

function unreachable(client: RedisClient): RedisConnectionError | undefined {
  const status = client.status;
  if (status === "reconnecting" || status === "close" || status === "end") {
    return new RedisConnectionError(`the Redis client is not connected (${status})`);
  }
  return undefined;
}

/**
 * Runs `acquire` (which takes the locks) with the offline policy. Returns `{ kind: "unlocked" }` when the policy is
 * "proceed" and Redis is unreachable; throws OfflineLockError once "wait" has waited `offlineWaitMs` (at once for a
 * client that has given up reconnecting).
 */
export async function acquireThroughOutage<T>(
  client: RedisClient,
  lockKeys: readonly string[],
  policy: OfflineLockPolicy,
  offlineWaitMs: number,
  signal: AbortSignal | undefined,
  acquire: () => Promise<T>,
): Promise<OfflineAcquisition<T>> {
  const started = performance.now();
  for (;;) {
    let outage: unknown = unreachable(client);
    if (outage === undefined) {
      try {
        return { kind: "taken", value: await acquire() };
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        outage = error;
      }
    }
    if (policy === "proceed") {
      log("guarded: Redis unreachable, running without the lock on %s (offline: proceed)", lockKeys.join(", "));
      return { kind: "unlocked" };
    }
    const waitedMs = Math.round(performance.now() - started);
    if (client.status === "end" || waitedMs + RETRY_MS > offlineWaitMs) {
      throw new OfflineLockError(lockKeys, waitedMs, { cause: outage });
    }
    await sleep(RETRY_MS, undefined, signal ? { signal } : {});
  }
}
