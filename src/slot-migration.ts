/**
 * Commands a slot migration turned away, sent again until they run.
 *
 * While Redis Cluster moves a slot between masters (resharding, `redis-cli --cluster rebalance` after a master is
 * added), a command on several keys of that slot is refused with TRYAGAIN as long as some of its keys are on each
 * side, or are new (the library's scripts name keys a thread or namespace may not have yet), and ASK/MOVED send
 * it from one master to the other. The slot stays that way until its last key has moved: seconds for a slot that
 * holds a large store namespace. ioredis follows these replies for about a second (maxRedirections), not at all
 * for a command in a pipeline whose other commands ran, and a script first sent to a master during the move can
 * come back NOSCRIPT. None of these replies means the command ran, so sending it again is safe for every command,
 * writes included: `sendAgain` does, with a short growing pause, for up to MIGRATION_WAIT_MS.
 */
import { isCluster, type RedisClient } from "./client.js";

/** How long a command refused by a slot migration is sent again before its error is reported (ms). */
export const MIGRATION_WAIT_MS = 20_000;
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 200;

const MOVING_SLOT = /^(TRYAGAIN|ASK|MOVED)\b/;
const REDIRECTIONS_SPENT =
  /^Too many Cluster redirections\. Last error: (?:ReplyError: )?(TRYAGAIN|ASK|MOVED|NOSCRIPT)\b/;

/**
 * True when `error` says the command did not run because its slot is being moved: TRYAGAIN, ASK or MOVED (only from
 * a Cluster client: a standalone client on a cluster node gets MOVED for good), or ioredis giving up on them.
 */
export function isSlotMoving(error: unknown, client: RedisClient): boolean {
  if (!(error instanceof Error) || !isCluster(client)) return false;
  return MOVING_SLOT.test(error.message) || REDIRECTIONS_SPENT.test(error.message);
}

/** True when `error` means the command did not run and may be sent again as it is (see the module comment). */
export function isUnrun(error: unknown, client: RedisClient): boolean {
  return isSlotMoving(error, client) || (error instanceof Error && /^NOSCRIPT\b/.test(error.message));
}

/**
 * Given the error of a command's first try, sends the command again (`send`) while it fails with an error that says
 * it did not run (isUnrun), for up to MIGRATION_WAIT_MS, pausing a little longer each time; returns its reply, or
 * throws the last error: at once when the first one is of another kind, as it is.
 */
export async function sendAgain<T>(client: RedisClient, firstError: unknown, send: () => Promise<T>): Promise<T> {
  let error = firstError;
  const deadline = performance.now() + MIGRATION_WAIT_MS;
  for (let pause = FIRST_PAUSE_MS; isUnrun(error, client); pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    try {
      return await send();
    } catch (next) {
      error = next;
    }
  }
  throw error;
}
