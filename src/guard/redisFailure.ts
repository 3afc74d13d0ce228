import { LangGraphRedisError, RedisConnectionError } from "../errors.js";
import { toNamedRedisError } from "../redis-errors.js";

/**
 * What a failed Redis call while taking or fencing a lock becomes: our own errors and the run's abort reason pass
 * through; a reply from the server (ioredis's ReplyError) becomes RedisPermissionError for an ACL denial and
 * RedisConnectionError for a server failing over, and passes through otherwise (OOM, with its own text); anything
 * else (connection refused, closed, too many retries) becomes a RedisConnectionError naming the lock.
 */
export function redisFailure(error: unknown, lockName: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof LangGraphRedisError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  if (error instanceof Error && error.name === "ReplyError") {
    // an ACL denial, or a server failing over (CLUSTERDOWN, READONLY, LOADING), gets its named error; others pass
    return toNamedRedisError(error, `guarded() taking lock "${lockName}"`, false);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new RedisConnectionError(`guarded(): Redis failed while taking lock "${lockName}": ${detail}`, {
    cause: error,
  });
}
