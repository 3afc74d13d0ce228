import { log } from "../log.js";
import type { GuardMutex } from "./guard-mutex.js";

/**
 * Releases locks (each only if still ours: redis-semaphore deletes the key only when it holds our identifier).
 * Never throws. Waits at most `waitMs`: past lockTimeoutMs the locks have expired anyway, and a release stuck on
 * an unreachable Redis must not hold up the node's result or its error.
 */
export async function releaseLocks(locks: readonly GuardMutex[], waitMs: number): Promise<void> {
  if (locks.length === 0) return;
  const released = Promise.allSettled(locks.map((lock) => lock.release())).then((results) => {
    for (const result of results) {
      if (result.status === "rejected") {
        log("guarded: release failed (%s); the lock expires by itself", errorName(result.reason));
      }
    }
  });
  if (waitMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
    timer.unref();
  });
  await Promise.race([released, cap]);
  clearTimeout(timer);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
