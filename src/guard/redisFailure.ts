import { LangGraphRedisError, RedisConnectionError } from "../errors.js";

/**
 * What a failed Redis call while taking or fencing a lock becomes: our own errors and the run's abort reason pass
 * through; a reply from the server (NOPERM, OOM, READONLY: ioredis's ReplyError) passes through with its own text;
 * anything else (connection refused, closed, too many retries) becomes a RedisConnectionError naming the lock.
 */
export function redisFailure(error: unknown, lockName: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof LangGraphRedisError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  if (error instanceof Error && error.name === "ReplyError") return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new RedisConnectionError(`guarded(): Redis failed while taking lock "${lockName}": ${detail}`, {
    cause: error,
  });
}
