/**
 * The one way the library calls Redis: `redisCall(ctx, site, fn)` waits for the context to be ready, runs `fn` on
 * its client and turns failures into the named errors of src/errors.ts (the original stays as `cause`):
 * - our own errors pass through;
 * - WRONGTYPE (a key of ours holds another Redis type): the context's corrupt-data error naming that key;
 * - an unknown or disabled command: UnsupportedServerError;
 * - an ACL denial: RedisPermissionError; a lost or refused connection, or a slot migration that outlasted the
 *   commands' retries (src/slot-migration.ts): RedisConnectionError.
 */
import type { RedisClient } from "./client.js";
import type { RedisContext } from "./context.js";
import { LangGraphRedisError, RedisConnectionError, UnsupportedServerError } from "./errors.js";
import { expectedKeyType } from "./keys.js";
import { COMMAND_PREFIX } from "./lua/index.js";
import { toNamedRedisError } from "./redis-errors.js";
import { isSlotMoving } from "./slot-migration.js";

/** What a call is, for the error it may become. */
export interface CallSite {
  /** What was being done, e.g. "RedisSaver.put" or "withRunLease: renew a run lease". */
  readonly operation: string;
  /** Whether the call writes (a dropped connection then leaves its outcome unknown, and the message says so). */
  readonly write: boolean;
  /** The keys the call touches, to name the one behind a WRONGTYPE reply (default: the failed command's keys). */
  readonly keys?: readonly string[] | undefined;
}

export async function redisCall<T>(
  ctx: RedisContext,
  site: CallSite,
  call: (client: RedisClient) => Promise<T>,
): Promise<T> {
  try {
    if (!ctx.isReady()) await ctx.ready();
    return await call(ctx.client);
  } catch (error) {
    throw await namedError(ctx, error, site);
  }
}

/** The named error for a failed call (see the module comment); anything unrecognised is returned unchanged. */
export async function namedError(ctx: RedisContext, error: unknown, site: CallSite): Promise<unknown> {
  if (error instanceof LangGraphRedisError || !(error instanceof Error)) return error;
  const message = error.message;
  if (message.includes("WRONGTYPE")) {
    const found = await wrongTypeKey(ctx.client, site.keys ?? keysOf(error));
    if (found) {
      return new ctx.corruptError(
        found.key,
        `holds a Redis ${found.actual} where the library keeps a ${found.expected}`,
        {
          cause: error,
        },
      );
    }
    return error;
  }
  if (/unknown command|Unknown Redis command/i.test(message)) {
    return new UnsupportedServerError(`The Redis server rejected a command ${ctx.component} needs: ${message}`, {
      cause: error,
    });
  }
  if (isSlotMoving(error, ctx.client)) {
    return new RedisConnectionError(
      `${site.operation} failed: the slot of its keys is being moved between masters (resharding) and did not ` +
        `settle (${message}); the command did not run and may be retried`,
      { cause: error },
    );
  }
  return toNamedRedisError(error, site.operation, site.write);
}

/**
 * What a failed Redis call while taking or fencing a lock becomes: our own errors and the run's abort reason pass
 * through; a reply from the server (ioredis's ReplyError) becomes RedisPermissionError for an ACL denial and
 * RedisConnectionError for a server failing over, and passes through otherwise (OOM, with its own text); anything
 * else (connection refused, closed, too many retries) becomes a RedisConnectionError naming the lock.
 */
export function lockFailure(error: unknown, lockName: string, signal: AbortSignal | undefined): unknown {
  if (error instanceof LangGraphRedisError) return error;
  if (signal?.aborted && error === signal.reason) return error;
  if (error instanceof Error && error.name === "ReplyError") {
    return toNamedRedisError(error, `guarded() taking lock "${lockName}"`, false);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new RedisConnectionError(`guarded(): Redis failed while taking lock "${lockName}": ${detail}`, {
    cause: error,
  });
}

/** The keys a failed command named: KEYS of a script (EVAL/EVALSHA), else its first argument. */
function keysOf(error: Error): string[] {
  const command = (error as { command?: { name?: unknown; args?: unknown } }).command;
  const args = Array.isArray(command?.args) ? command.args.map((a: unknown) => String(a)) : [];
  const name = String(command?.name ?? "").toLowerCase();
  if (name === "evalsha" || name === "eval" || name.startsWith(COMMAND_PREFIX.toLowerCase())) {
    const count = Number(args[1]);
    return Number.isInteger(count) && count > 0 ? args.slice(2, 2 + count) : [];
  }
  return args.slice(0, 1);
}

/** The first of `keys` that holds another Redis type than the library keeps there (one TYPE per key). */
async function wrongTypeKey(
  client: RedisClient,
  keys: readonly string[],
): Promise<{ key: string; actual: string; expected: string } | undefined> {
  for (const key of keys) {
    const expected = expectedKeyType(key);
    if (expected === undefined) continue;
    try {
      const actual = await client.type(key);
      if (actual !== "none" && !expected.split(" or ").includes(actual)) return { key, actual, expected };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
