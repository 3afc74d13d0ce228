/** Shared by the recovery tests: bounded polling (no timed assertions) and small graphs. */
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `check` every `everyMs` until it is true; fails after `timeoutMs` (a bound, not a timing assertion). */
export async function waitUntil(check: () => Promise<boolean> | boolean, everyMs = 50, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
