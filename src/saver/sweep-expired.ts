/**
 * sweepExpired(): the keepLatest TTL strategy. Redis cannot expire "all but the latest checkpoint" of a thread by
 * itself, so with `ttl: { defaultTtlMs, strategy: "keepLatest" }` the thread's keys get no expiry and this sweep
 * trims every thread idle for defaultTtlMs to its latest checkpoint per namespace (with what that checkpoint needs),
 * as prune(threadIds, { strategy: "keep_latest" }) would. Idle time comes from the cross-thread index (its score
 * is the server time of the thread's last write, or read with refreshOnRead), so no SCAN is needed. Pass the
 * returned `nextSinceMs` as `sinceMs` to the next sweep to visit only threads that went idle since.
 */
import { InvalidInputError } from "../errors.js";
import { redisCall } from "../redis-call.js";
import type { SaverContext } from "./context.js";
import { pruneThread } from "./prune.js";
import { indexedThreads } from "./thread-index.js";

export interface SweepExpiredResult {
  /** Threads trimmed to their latest checkpoint (pinned ones are not counted). */
  threads: number;
  checkpoints: number;
  writes: number;
  blobs: number;
  /** Idle threads left alone because they are pinned. */
  pinned: string[];
  /** The idle boundary this sweep used (server time, ms): pass it as `sinceMs` to the next sweep. */
  nextSinceMs: number;
}

export async function sweepExpired(
  context: SaverContext,
  options: { sinceMs?: number } = {},
): Promise<SweepExpiredResult> {
  const operation = "RedisSaver.sweepExpired";
  if (context.keepLatestAfterMs === 0) {
    throw new InvalidInputError(
      `${operation}: only the keepLatest TTL strategy needs a sweep (ttl: { defaultTtlMs, strategy: "keepLatest" }); ` +
        "with the delete strategy Redis expires idle threads itself",
    );
  }
  const sinceMs = options?.sinceMs ?? 0;
  if (typeof sinceMs !== "number" || !Number.isFinite(sinceMs) || sinceMs < 0) {
    throw new InvalidInputError(`${operation}: sinceMs must be a time in ms (>= 0), received ${String(sinceMs)}`);
  }
  const [seconds, micros] = await redisCall(context, { operation, write: false }, (client) => client.time());
  const idleBeforeMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - context.keepLatestAfterMs;
  const result: SweepExpiredResult = {
    threads: 0,
    checkpoints: 0,
    writes: 0,
    blobs: 0,
    pinned: [],
    nextSinceMs: Math.max(sinceMs, idleBeforeMs),
  };
  for await (const { threadId, score } of indexedThreads(context)) {
    const lastActiveMs = Number(score);
    if (lastActiveMs >= idleBeforeMs) continue;
    if (lastActiveMs < sinceMs) break;
    const outcome = await pruneThread(context, threadId, 1, operation);
    if (outcome.pinned) {
      result.pinned.push(threadId);
      continue;
    }
    result.threads += 1;
    result.checkpoints += outcome.checkpoints;
    result.writes += outcome.writes;
    result.blobs += outcome.blobs;
  }
  return result;
}
