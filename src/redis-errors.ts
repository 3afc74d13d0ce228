import { needsClusterClientError } from "./client.js";
import { LangGraphRedisError, RedisConnectionError, RedisPermissionError } from "./errors.js";

/**
 * Maps what ioredis and Redis report for conditions a user can hit to the library's named errors, so callers can
 * tell "Redis was not there" (RedisConnectionError) or "the ACL forbids it" (RedisPermissionError) from a bug or bad
 * input with one `instanceof`. The original error stays as `cause`.
 *
 * When a connection drops after a write was sent, the write may or may not have been applied; the library's writes
 * are atomic (one script or one MULTI), so it is applied whole or not at all, and the message says so.
 */

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const CONNECTION_ERROR_NAMES = new Set(["MaxRetriesPerRequestError", "ClusterAllFailedError", "AbortError"]);

const CONNECTION_MESSAGES = [
  /^Connection is closed\.?$/,
  /^Stream isn't writeable/,
  /^None of startup nodes is available/,
  /^Cluster is disconnect(ed|ing)/,
  /^Failed to refresh slots cache/,
  /^Too many Cluster redirections/,
  /^Command aborted due to connection close/,
  /^Command timed out/,
  /^Socket timeout/,
  /^connect ETIMEDOUT/,
  /^No master node is available/,
  /^All sentinels are unreachable/,
];

/** Server replies that mean "not available right now" (restarting, loading, failing over), not "wrong request". */
const UNAVAILABLE_REPLIES = /^(LOADING|CLUSTERDOWN|MASTERDOWN|READONLY|TRYAGAIN|BUSY)\b/;

/** True when `error` says Redis could not be reached, the connection dropped, or the server is not serving yet. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof RedisConnectionError) return true;
  if (error instanceof LangGraphRedisError || !(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
  if (CONNECTION_ERROR_NAMES.has(error.name)) return true;
  const message = error.message;
  return CONNECTION_MESSAGES.some((pattern) => pattern.test(message)) || UNAVAILABLE_REPLIES.test(message);
}

/**
 * Returns a RedisConnectionError for a connection failure during `operation` (e.g. "RedisSaver.put"), and any other
 * error unchanged. `write` says whether the operation writes, so the message can say its outcome is unknown.
 */
export function toConnectionError(error: unknown, operation: string, write: boolean): unknown {
  if (!isConnectionError(error) || error instanceof RedisConnectionError) return error;
  const message = (error as Error).message;
  // a cluster that gave up connecting (clusterRetryStrategy returned null) says only this
  const reason = /^None of startup nodes is available/.test(message)
    ? `${message}: no startup node answered; check the addresses, the user name and password, and TLS`
    : /^All sentinels are unreachable/.test(message)
      ? `${message}: no sentinel named a master; check their addresses, the master name, the sentinels' password ` +
        "(sentinelPassword), and TLS"
      : message;
  const outcome = write ? "; the write was applied whole or not at all, and may be retried" : "";
  return new RedisConnectionError(
    `${operation} failed: Redis is unreachable or the connection dropped (${reason})${outcome}`,
    {
      cause: error,
    },
  );
}

function isClusterRedirect(error: unknown): boolean {
  return (
    error instanceof Error && !(error instanceof LangGraphRedisError) && /^(MOVED|ASK|CROSSSLOT)\b/.test(error.message)
  );
}

/** True for a NOPERM reply: the ACL user may not run a command or touch a key. */
export function isPermissionError(error: unknown): boolean {
  return error instanceof Error && !(error instanceof LangGraphRedisError) && /^NOPERM\b/.test(error.message);
}

/**
 * The named error for `error` raised during `operation`: RedisConnectionError for connection failures,
 * RedisPermissionError for ACL denials, anything else unchanged.
 */
export function toNamedRedisError(error: unknown, operation: string, write: boolean): unknown {
  // A Cluster client follows MOVED and ASK itself and the library's scripts never mix slots, so these replies reach
  // here only from a standalone client connected to a cluster node.
  if (isClusterRedirect(error)) {
    return needsClusterClientError(`${operation} got "${(error as Error).message}"`, { cause: error });
  }
  if (isPermissionError(error)) {
    return new RedisPermissionError(
      `${operation} was denied by the Redis ACL (${(error as Error).message}); the user needs the key pattern and ` +
        "commands listed by aclRules() (docs/security.md)",
      { cause: error },
    );
  }
  return toConnectionError(error, operation, write);
}
